"""Thresholds chosen at ingest from cross-validated held-out examples, never from the
queries they are measured on.

Ingest holds out each fold of the entries' alternate phrasings (in scope) and of the
decline examples (out of scope: the shop's own and faqbot's generic questions), scores
them against a model built without them, and scores each held-out phrasing once more
with its own entry taken out (an "absent" row: a question of the shop's trade that the
FAQ does not answer). From those rows:

- with at least MIN_DECLINES of the shop's own decline examples, the abstain threshold
  is the lowest confidence that declines ``target_oos_recall`` of them;
- without them, it is the threshold that answers the most held-out phrasings right
  while declining the most absent and generic rows, the two weighed alike (balanced
  accuracy; the median of the thresholds within one standard error of the best):
  absent rows are harder than a shop's real off-topic questions and generic ones
  easier, so neither alone sets it (docs/retrieval.md has the measurements);
- the canonical rule (confidence and lead over the second entry) is the one that answers
  the most held-out rows verbatim while at least ``target_canonical_precision`` of those
  verbatim answers are the right entry.

Too few rows of any kind: the settings' fallback thresholds, and the manifest says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from service.retrieval.calibration import Calibration

MIN_DECLINES = 20  # a recall target on fewer held-out declines is a guess
MIN_IN_SCOPE = 30
MIN_CANONICAL_ROWS = 20
# A verbatim rule must answer enough rows that its precision target could be told from
# chance: with all n answered right, precision >= target holds at 95% confidence only
# if n >= log(0.05) / log(target) (about 600 rows for 0.995). On a small FAQ (50
# held-out phrasings) a rule "right on all 50" chose any lead, and customers then got
# a neighbouring entry's text verbatim (docs/retrieval.md).
CONFIDENCE = 0.05
MIN_BALANCED_ROWS = 10  # per side: fewer held-out rows than this say nothing
_GRID = np.round(np.arange(0.0, 1.0001, 0.005), 3)
_MARGINS = np.round(np.arange(0.0, 1.0001, 0.02), 3)


@dataclass(frozen=True)
class CalibrationRows:
    """One row per held-out example: its gold entry ("" = should decline), the top entry
    returned, the confidence and the top entry's lead over the second."""

    gold: npt.NDArray[np.str_]
    top: npt.NDArray[np.str_]
    confidence: npt.NDArray[np.float64]
    margin: npt.NDArray[np.float64]
    # "in" (a held-out phrasing), "decline" (the shop's example), "generic" (faqbot's own
    # question no shop answers) or "absent" (a phrasing with its entry taken out)
    group: npt.NDArray[np.str_] | None = None

    @property
    def groups(self) -> npt.NDArray[np.str_]:
        if self.group is not None:
            return self.group
        return np.where(self.gold != "", "in", "decline")

    def only(self, *groups: str) -> CalibrationRows:
        keep = np.isin(self.groups, groups)
        return CalibrationRows(
            self.gold[keep],
            self.top[keep],
            self.confidence[keep],
            self.margin[keep],
            self.groups[keep],
        )

    @property
    def in_scope(self) -> npt.NDArray[np.bool_]:
        return self.gold != ""  # type: ignore[no-any-return]

    @property
    def right(self) -> npt.NDArray[np.bool_]:
        return (self.top == self.gold) & self.in_scope  # type: ignore[no-any-return]


def abstain_threshold(rows: CalibrationRows, target_oos_recall: float) -> float | None:
    """The lowest threshold that declines at least the target share of held-out decline
    examples: the most in-scope questions answered at that out-of-scope recall."""
    oos = rows.confidence[~rows.in_scope]
    if len(oos) < MIN_DECLINES:
        return None
    for t in _GRID:
        if float(np.mean(oos < t)) >= target_oos_recall:
            return float(t)
    return float(_GRID[-1])


def balanced_threshold(rows: CalibrationRows) -> float | None:
    """The threshold maximising in-scope accuracy on held-out phrasings plus the mean
    share declined of absent and of generic (or few shop decline) rows. On a small FAQ
    that sum is flat and noisy near its top (171 held-out phrasings: one row more moved
    its arg-max from 0.42 to 0.475), so the choice is the median of the thresholds
    within one standard error of the best, not the arg-max itself."""
    groups = rows.groups
    inside = groups == "in"
    outs = [m for m in (groups == "absent", np.isin(groups, ["generic", "decline"])) if m.any()]
    if inside.sum() < MIN_BALANCED_ROWS or sum(int(m.sum()) for m in outs) < MIN_BALANCED_ROWS:
        return None
    right = rows.right[inside]
    conf = rows.confidence
    values, errors = [], []
    for t in _GRID:
        acc = float(np.mean(right & (conf[inside] >= t)))
        declined = [float(np.mean(conf[m] < t)) for m in outs]
        values.append(acc + float(np.mean(declined)))
        # the binomial standard error of that sum (each declined share weighs 1/len(outs))
        var = acc * (1 - acc) / inside.sum()
        var += (
            sum(d * (1 - d) / m.sum() for d, m in zip(declined, outs, strict=True)) / len(outs) ** 2
        )
        errors.append(var**0.5)
    best = int(np.argmax(values))
    near = np.flatnonzero(np.array(values) >= values[best] - errors[best])
    return float(np.round(np.median(_GRID[near]), 3))


def canonical_rule(
    rows: CalibrationRows, floor: float, target_precision: float
) -> tuple[float, float] | None:
    """(confidence, margin) answering the most rows verbatim at the target precision.
    Rows that should be declined count against it when they would be answered."""
    best: tuple[int, float, float] | None = None
    right = rows.right
    if target_precision >= 1.0:
        return None  # no number of rows shows a precision of 1
    needed = max(MIN_CANONICAL_ROWS, math.ceil(math.log(CONFIDENCE) / math.log(target_precision)))
    for t in _GRID[floor <= _GRID]:
        above = rows.confidence >= t
        for m in _MARGINS:
            chosen = above & (rows.margin >= m)
            n = int(chosen.sum())
            if n < needed:
                break
            if float(right[chosen].mean()) >= target_precision:
                if best is None or n > best[0]:
                    best = (n, float(t), float(m))
                break  # a larger margin only answers fewer rows at this threshold
    return None if best is None else (best[1], best[2])


def calibrate(
    rows: CalibrationRows,
    temperature: float,
    *,
    target_oos_recall: float,
    target_canonical_precision: float,
    fallback_abstain: float,
    fallback_canonical: tuple[float, float],
) -> Calibration:
    scored = rows.only("in", "decline", "generic")  # absent rows only place the abstention
    n_in = int(scored.in_scope.sum())
    n_out = int((~scored.in_scope).sum())
    abstain = abstain_threshold(rows.only("in", "decline"), target_oos_recall)
    reasons = []
    if abstain is None:
        abstain = balanced_threshold(rows)
        reasons.append(
            f"fewer than {MIN_DECLINES} decline examples: balanced on held-out phrasings, "
            "left-out entries and generic questions"
        )
    if abstain is None:
        abstain = fallback_abstain
        reasons[-1] = (
            f"fewer than {MIN_DECLINES} decline examples and too few held-out rows: "
            "default abstain threshold"
        )
    canonical = (
        canonical_rule(scored, abstain, target_canonical_precision)
        if n_in >= MIN_IN_SCOPE
        else None
    )
    if canonical is None:
        canonical = (max(fallback_canonical[0], abstain), fallback_canonical[1])
        reasons.append("no verbatim rule reaches the target on held-out phrasings: defaults")
    return Calibration(
        abstain_threshold=abstain,
        canonical_threshold=canonical[0],
        canonical_margin=canonical[1],
        temperature=temperature,
        method="; ".join(reasons) or "cross-validation",
        in_scope_rows=n_in,
        decline_rows=n_out,
        target_oos_recall=target_oos_recall,
        target_canonical_precision=target_canonical_precision,
    )
