"""The gate compares the candidate with the live version question by question: a change
that sends a question the live version answers right to a wrong entry is a regression,
listed first, and refused unless accepted, even while the totals stay above their
minimums. Real embedder, real Chroma."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.pipeline import IngestError, IngestPipeline
from service.config import GateSettings

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
BOOTS = "how many days do I have to send an item back"
LENIENT = GateSettings(min_recall_at_1=0.0, min_abstention_accuracy=0.0)


def _gate(tmp_path: Path) -> Path:
    rows = [
        {"query": BOOTS, "faq_id": "returns-window"},
        {"query": "where do I find the return label", "faq_id": "returns-label"},
        {"query": "can I pay with paypal", "faq_id": "payment-methods"},
        {"query": "what is the capital of peru", "faq_id": None},
    ]
    path = tmp_path / "gate.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _misfile_the_question(faq_dir: Path) -> None:
    """An editor adds a customer's question to the wrong entry (from the gap inbox)."""
    returns = faq_dir / "returns.md"
    returns.write_text(
        returns.read_text(encoding="utf-8").replace(
            "- where is the returns label\n",
            f"- where is the returns label\n- {BOOTS}\n- how many days to send something back\n",
        ),
        encoding="utf-8",
    )


def test_a_regression_is_refused_and_listed_first_then_accepted(
    faq_dir: Path, make_pipeline: Callable[..., IngestPipeline], tmp_path: Path
) -> None:
    gate = _gate(tmp_path)
    pipeline = make_pipeline(gate=LENIENT)
    first = pipeline.run([faq_dir], gate_questions=gate)
    assert first.published and first.comparison is None  # nothing live to compare with
    _misfile_the_question(faq_dir)
    with pytest.raises(IngestError) as refused:
        make_pipeline(gate=LENIENT).run([faq_dir], gate_questions=gate)
    lines = refused.value.lines
    assert any("--accept-regressions" in line for line in lines)
    listed = [line for line in lines if line.startswith("  ")]
    assert listed and listed[0].startswith("  regression: ")
    assert BOOTS in listed[0] and "returns-window -> returns-label" in listed[0]
    assert pipeline.store.pointer().current == first.version  # the live index is unchanged
    kept = pipeline.store.candidate()  # complete, so publishing it on purpose is no rebuild
    assert kept is not None
    accepted = make_pipeline(gate=LENIENT).run(
        [faq_dir], gate_questions=gate, accept_regressions=True
    )
    assert accepted.published and accepted.comparison is not None
    assert accepted.reused_candidate and accepted.version == kept["version"]
    [regression] = accepted.comparison.regressions
    assert (regression.expected, regression.before, regression.after, regression.kind) == (
        "returns-window",
        "returns-window",
        "returns-label",
        "right -> wrong",
    )


def test_the_command_shows_the_regression_the_minimums_and_the_live_figures(
    faq_dir: Path, make_pipeline: Callable[..., IngestPipeline], tmp_path: Path
) -> None:
    gate = _gate(tmp_path)
    make_pipeline(gate=LENIENT).run([faq_dir], gate_questions=gate)
    _misfile_the_question(faq_dir)
    env = {
        **os.environ,
        "FAQBOT_INDEX__PATH": str(tmp_path / "index"),
        "FAQBOT_GATE__MIN_RECALL_AT_1": "0",
        "FAQBOT_GATE__MIN_ABSTENTION_ACCURACY": "0",
    }

    def ingest(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", "ingest", str(faq_dir), "--gate", str(gate), *extra],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    refused = ingest()
    assert refused.returncode == 1
    assert "would go wrong" in refused.stderr and f"regression: '{BOOTS}'" in refused.stderr
    published = ingest("--accept-regressions")
    assert published.returncode == 0, published.stderr
    out = published.stdout
    assert out.index("regression:") < out.index("gate passed")
    assert "(minimum 0.000)" in out and "; live v" in out


def test_a_version_refused_for_its_figures_is_not_kept_even_with_regressions_accepted(
    faq_dir: Path, make_pipeline: Callable[..., IngestPipeline], tmp_path: Path
) -> None:
    from ingest.pipeline import RegressionsRefused

    gate = _gate(tmp_path)
    make_pipeline(gate=LENIENT).run([faq_dir], gate_questions=gate)
    _misfile_the_question(faq_dir)
    strict = GateSettings(min_recall_at_1=1.0, min_abstention_accuracy=0.0)
    pipeline = make_pipeline(gate=strict)
    with pytest.raises(IngestError) as refused:
        pipeline.run([faq_dir], gate_questions=gate, accept_regressions=True)
    # the regressions were accepted; the figures refused it, so nothing is kept
    assert not isinstance(refused.value, RegressionsRefused)
    assert any("recall@1" in line for line in refused.value.lines)
    assert pipeline.store.candidate() is None
