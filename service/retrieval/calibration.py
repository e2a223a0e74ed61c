"""The thresholds an index version was calibrated with, as its manifest records them.

They are chosen at ingest (ingest/calibration_rules.py); the service only reads them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


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
