from __future__ import annotations

from pathlib import Path

import numpy as np

from ingest.calibration_rules import (
    CalibrationRows,
    abstain_threshold,
    calibrate,
    canonical_rule,
)
from service.sources.parse import parse_sources


def rows(
    gold: list[str], top: list[str], conf: list[float], margin: list[float]
) -> CalibrationRows:
    return CalibrationRows(np.array(gold), np.array(top), np.array(conf), np.array(margin))


def test_the_abstain_threshold_declines_the_target_share_of_held_out_declines() -> None:
    declines = list(np.linspace(0.05, 0.60, 40))  # confidences of 40 decline examples
    r = rows([""] * 40, ["a"] * 40, declines, [0.0] * 40)
    t = abstain_threshold(r, 0.90)
    assert t is not None
    assert np.mean(np.array(declines) < t) >= 0.90
    # the lowest such threshold: one step lower misses the target
    assert np.mean(np.array(declines) < t - 0.005) < 0.90


def test_too_few_declines_fall_back_to_the_default() -> None:
    r = rows(["", "a"], ["a", "a"], [0.2, 0.9], [0.0, 0.5])
    assert abstain_threshold(r, 0.9) is None
    c = calibrate(
        r,
        1.0,
        target_oos_recall=0.9,
        target_canonical_precision=0.99,
        fallback_abstain=0.5,
        fallback_canonical=(0.7, 0.3),
    )
    assert (c.abstain_threshold, c.canonical_threshold, c.canonical_margin) == (0.5, 0.7, 0.3)
    assert "fewer than 20 decline examples" in c.method


def test_the_canonical_rule_needs_a_lead_when_close_calls_are_wrong() -> None:
    # 400 clear wins (lead 0.5) are right; 100 close calls (lead 0.05) are wrong, all
    # confident.
    gold = ["a"] * 400 + ["b"] * 100
    top = ["a"] * 500
    r = rows(gold, top, [0.9] * 500, [0.5] * 400 + [0.05] * 100)
    rule = canonical_rule(r, floor=0.4, target_precision=0.99)
    assert rule is not None
    threshold, margin = rule
    assert 0.05 < margin <= 0.5 and threshold >= 0.4


def test_a_verbatim_rule_needs_rows_enough_to_show_its_precision() -> None:
    # 50 rows all right say little about a 0.995 target: no rule, the defaults apply
    r = rows(["a"] * 50, ["a"] * 50, [0.9] * 50, [0.0] * 50)
    assert canonical_rule(r, floor=0.4, target_precision=0.995) is None
    assert canonical_rule(r, floor=0.4, target_precision=1.0) is None


def test_a_decline_file_is_read_as_questions_to_decline(tmp_path: Path) -> None:
    faq = tmp_path / "faq"
    faq.mkdir()
    (faq / "a.jsonl").write_text('{"id": "x", "question": "Q?", "answer": "A."}\n')
    (faq / "decline_examples.md").write_text(
        "# Not ours\n\nProse is ignored.\n\n- Tell me a joke\n- tell me  a joke\n- Weather?\n"
    )
    (faq / "declines.jsonl").write_text('{"query": "Stock price?"}\n{"q": 1}\n')
    parsed = parse_sources([faq])
    assert [e.id for e in parsed.entries] == ["x"]
    assert parsed.declines == ["Tell me a joke", "Weather?", "Stock price?"]
    assert [e.line for e in parsed.errors] == [2]


def test_a_decline_file_must_be_markdown_or_jsonl_and_utf8(tmp_path: Path) -> None:
    faq = tmp_path / "faq"
    faq.mkdir()
    (faq / "a.jsonl").write_text('{"id": "x", "question": "Q?", "answer": "A."}\n')
    (faq / "declines.csv").write_text("query\nTell me a joke\n")
    (faq / "decline_more.md").write_bytes(b"- fine\n- caf\xe9\n")
    errors = [str(e) for e in parse_sources([faq]).errors]
    assert any("declines.csv" in e and "use a .md list or .jsonl" in e for e in errors)
    assert any("decline_more.md:2: not UTF-8" in e for e in errors)
