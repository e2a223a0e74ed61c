"""Thresholds chosen at ingest from cross-validated held-out examples, never from the
queries they are measured on.

Ingest holds out each fold of the entries' alternate phrasings (in scope) and of the
decline examples (out of scope), scores them against a model built without them, and
pools the rows. From those rows:

- the abstain threshold is the lowest confidence that declines at least
  ``target_oos_recall`` of the held-out decline examples;
- the canonical rule (confidence and lead over the second entry) is the one that answers
  the most held-out rows verbatim while at least ``target_canonical_precision`` of those
  verbatim answers are the right entry.

Too few decline examples, or too few phrasings: the settings' fallback thresholds, and
the manifest says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

MIN_DECLINES = 20  # a recall target on fewer held-out declines is a guess
MIN_IN_SCOPE = 30
MIN_CANONICAL_ROWS = 20
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

    @property
    def in_scope(self) -> npt.NDArray[np.bool_]:
        return self.gold != ""  # type: ignore[no-any-return]

    @property
    def right(self) -> npt.NDArray[np.bool_]:
        return (self.top == self.gold) & self.in_scope  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Calibration:
    abstain_threshold: float
    canonical_threshold: float
    canonical_margin: float
    temperature: float
    method: str  # "cross-validation", or why the fallback was used
    in_scope_rows: int = 0
    decline_rows: int = 0
    target_oos_recall: float = 0.0
    target_canonical_precision: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        return cls(**data)

    def describe(self) -> str:
        return (
            f"abstain below {self.abstain_threshold:.3f}, verbatim from "
            f"{self.canonical_threshold:.3f} with a lead of {self.canonical_margin:.2f} "
            f"({self.method}; {self.in_scope_rows} held-out phrasings, "
            f"{self.decline_rows} held-out decline examples)"
        )


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


def canonical_rule(
    rows: CalibrationRows, floor: float, target_precision: float
) -> tuple[float, float] | None:
    """(confidence, margin) answering the most rows verbatim at the target precision.
    Rows that should be declined count against it when they would be answered."""
    best: tuple[int, float, float] | None = None
    right = rows.right
    for t in _GRID[floor <= _GRID]:
        above = rows.confidence >= t
        for m in _MARGINS:
            chosen = above & (rows.margin >= m)
            n = int(chosen.sum())
            if n < MIN_CANONICAL_ROWS:
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
    n_in = int(rows.in_scope.sum())
    n_out = int((~rows.in_scope).sum())
    abstain = abstain_threshold(rows, target_oos_recall)
    reasons = []
    if abstain is None:
        abstain = fallback_abstain
        reasons.append(f"fewer than {MIN_DECLINES} decline examples: default abstain threshold")
    canonical = (
        canonical_rule(rows, abstain, target_canonical_precision) if n_in >= MIN_IN_SCOPE else None
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
