"""The thresholds in force for an index version, with one precedence for each: a value
fixed in the settings, then one saved from the console (THRESHOLDS.json beside the
index), then the version's own calibration.

The abstain threshold decides whether to answer at all; the verbatim rule (confidence
and lead over the second entry) whether to answer with the entry's own text. The chat
settings may fix the verbatim rule (chat.canonical_threshold, chat.canonical_margin);
SearchResult.certain applies them with the same precedence (first_fixed)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from service.retrieval.calibration import Calibration

Source = Literal["settings", "console", "calibration"]


@dataclass(frozen=True)
class Thresholds:
    abstain: float
    canonical: float
    canonical_margin: float
    source: Source  # where the abstain threshold came from


def first_fixed(*values: float | None) -> float:
    """The first value that is set: callers list them by precedence, the fallback last."""
    for value in values:
        if value is not None:
            return float(value)
    raise ValueError("no value and no fallback")


def _saved(saved: Mapping[str, Any], key: str) -> float | None:
    value = saved.get(key)
    # a hand-edited file may hold anything; only numbers count (bool is an int: refused)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def resolve(
    calibration: Calibration, saved: Mapping[str, Any], fixed_abstain: float | None = None
) -> Thresholds:
    saved_abstain = _saved(saved, "abstain_threshold")
    source: Source = (
        "settings"
        if fixed_abstain is not None
        else "console"
        if saved_abstain is not None
        else "calibration"
    )
    return Thresholds(
        abstain=first_fixed(fixed_abstain, saved_abstain, calibration.abstain_threshold),
        canonical=first_fixed(
            _saved(saved, "canonical_threshold"), calibration.canonical_threshold
        ),
        canonical_margin=first_fixed(
            _saved(saved, "canonical_margin"), calibration.canonical_margin
        ),
        source=source,
    )
