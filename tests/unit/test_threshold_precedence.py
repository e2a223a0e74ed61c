"""One precedence for every threshold (service/retrieval/thresholds.py): a value fixed in
the settings, then one saved from the console, then the index's calibration."""

from __future__ import annotations

import pytest

from service.retrieval.calibration import Calibration
from service.retrieval.thresholds import first_fixed, resolve

CALIBRATED = Calibration(0.40, 0.70, 0.30, 1.0, "cross-validation")


def test_the_calibration_when_nothing_else_says() -> None:
    t = resolve(CALIBRATED, {})
    assert (t.abstain, t.canonical, t.canonical_margin, t.source) == (
        0.40,
        0.70,
        0.30,
        "calibration",
    )


def test_the_console_over_the_calibration_and_the_settings_over_both() -> None:
    saved = {"abstain_threshold": 0.5, "canonical_threshold": 0.8, "canonical_margin": 0.1}
    console = resolve(CALIBRATED, saved)
    assert (console.abstain, console.canonical, console.canonical_margin) == (0.5, 0.8, 0.1)
    assert console.source == "console"
    fixed = resolve(CALIBRATED, saved, fixed_abstain=0.2)
    assert (fixed.abstain, fixed.source) == (0.2, "settings")
    assert fixed.canonical == 0.8  # the settings fixed only the abstain threshold


@pytest.mark.parametrize("value", ["0.9", None, True, [0.5], {"x": 1}])
def test_a_saved_value_that_is_not_a_number_is_ignored(value: object) -> None:
    t = resolve(CALIBRATED, {"abstain_threshold": value, "canonical_margin": value})
    assert (t.abstain, t.canonical_margin, t.source) == (0.40, 0.30, "calibration")


def test_first_fixed_takes_the_first_value_set() -> None:
    assert first_fixed(None, 0.3, 0.5) == 0.3
    assert first_fixed(0.0, 0.3) == 0.0  # zero is a value, not "unset"
    with pytest.raises(ValueError):
        first_fixed(None, None)
