"""Crash safety (a real SIGKILL mid-ingest) and the editors' quality gate."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.pipeline import IngestError, IngestPipeline
from service.config import Settings
from service.retrieval.retriever import Retriever
from service.retrieval.store import IndexStore

pytestmark = pytest.mark.integration


def write_big_jsonl(path: Path, n: int) -> None:
    topics = ["returns", "shipping", "payment", "warranty", "sizing", "gift cards", "account"]
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            topic = topics[i % len(topics)]
            f.write(
                json.dumps(
                    {
                        "id": f"big-{i}",
                        "question": f"Question {i} about {topic} and item number {i}?",
                        "answer": f"Answer {i}: " + " ".join([f"{topic} detail {i}"] * 30),
                        "questions": [
                            f"phrasing {j} of question {i} about {topic}" for j in range(3)
                        ],
                    }
                )
                + "\n"
            )


def test_sigkill_mid_ingest_leaves_the_live_index_intact_and_the_next_run_completes(
    faq_dir: Path,
    make_pipeline: Callable[..., IngestPipeline],
    open_retriever: Callable[[], Retriever],
    settings: Settings,
    tmp_path: Path,
) -> None:
    make_pipeline().run([faq_dir])
    big = tmp_path / "big.jsonl"
    write_big_jsonl(big, 1500)
    env = {**os.environ, "FAQBOT_INDEX__PATH": str(settings.index.path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "ingest", str(faq_dir), str(big)],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 120
    seen = ""
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        seen += line
        if line.startswith("embedding:") or not line:
            break
    assert "embedding:" in seen, f"ingest never started embedding:\n{seen}"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    store = IndexStore(settings.index.path)
    assert store.pointer().current == "v000001"
    assert store.garbage_versions() == ["v000002"]  # the half-written version
    retriever = open_retriever()
    assert len(retriever) == 5
    top = retriever.search("how long do I have to return an item?").top
    assert top is not None and top.entry_id == "returns-window"

    # The lock died with the process; the next run cleans up and completes (under a new
    # number: a number once issued is never used again).
    (faq_dir / "payment.md").unlink()
    report = make_pipeline().run([faq_dir])
    assert report.published and report.version == "v000003"
    assert store.garbage_versions() == []
    assert sorted(p.name for p in (settings.index.path / "versions").iterdir()) == [
        "v000001",
        "v000003",
    ]
    retriever = open_retriever()
    assert retriever.version == "v000003" and len(retriever) == 4


def gate_file(tmp_path: Path) -> Path:
    rows = [
        ("how many days do I have to return something", "returns-window"),
        ("where can I find a return label", "returns-label"),
        ("do you ship to norway", "shipping-countries"),
        ("how much is delivery", "shipping-cost"),
        ("can I pay with a credit card", "payment-methods"),
        ("what is the capital of australia", None),
    ]
    path = tmp_path / "gate.jsonl"
    path.write_text(
        "".join(json.dumps({"query": q, "faq_id": f}) + "\n" for q, f in rows), encoding="utf-8"
    )
    return path


def test_gate_passes_on_a_healthy_faq(
    faq_dir: Path, make_pipeline: Callable[..., IngestPipeline], tmp_path: Path
) -> None:
    report = make_pipeline().run([faq_dir], gate_questions=gate_file(tmp_path))
    assert report.published and report.gate is not None
    assert report.gate.recall_at_1 == 1.0


def test_gate_refuses_a_version_that_lost_an_entry(
    faq_dir: Path,
    make_pipeline: Callable[..., IngestPipeline],
    settings: Settings,
    tmp_path: Path,
) -> None:
    gate = gate_file(tmp_path)
    make_pipeline().run([faq_dir], gate_questions=gate)
    (faq_dir / "payment.md").unlink()
    with pytest.raises(IngestError, match="quality gate failed") as err:
        make_pipeline().run([faq_dir], gate_questions=gate)
    assert any("recall@1" in line for line in err.value.lines)
    assert any("payment-methods" in line for line in err.value.lines)
    store = IndexStore(settings.index.path)
    assert store.pointer().current == "v000001"
    assert store.garbage_versions() == []  # the refused version was removed


def test_gate_minimums_come_from_settings(
    faq_dir: Path, make_pipeline: Callable[..., IngestPipeline], settings: Settings, tmp_path: Path
) -> None:
    strict = settings.gate.model_copy(
        update={"min_abstention_accuracy": 1.0, "min_recall_at_1": 1.0}
    )
    # A question set the FAQ cannot answer well: the gate must refuse it.
    path = tmp_path / "hard.jsonl"
    path.write_text(
        json.dumps({"query": "do you ship to norway", "faq_id": "payment-methods"}) + "\n",
        encoding="utf-8",
    )
    with pytest.raises(IngestError, match="quality gate failed"):
        make_pipeline(gate=strict).run([faq_dir], gate_questions=path)


def test_the_conversation_gate_publishes_only_what_follows_its_conversations(
    faq_dir: Path, make_pipeline: Callable[..., IngestPipeline], settings: Settings, tmp_path: Path
) -> None:
    import argparse

    from cli.conversations import gated_run

    good = tmp_path / "good.jsonl"
    turns = [
        {"message": "how many days do I have to send something back", "expect": "returns-window"},
        {"message": "thanks!", "expect": "smalltalk"},
    ]
    good.write_text(json.dumps({"id": "returns", "turns": turns}) + "\n", encoding="utf-8")
    args = argparse.Namespace(
        rebuild=False, skip_invalid=False, gate=None, gate_conversations=str(good)
    )
    assert gated_run(args, settings, make_pipeline(), [faq_dir]) == 0
    store = IndexStore(settings.index.path)
    assert store.pointer().current == "v000001"
    # a version on which a conversation does not go as expected is not published
    (faq_dir / "payment.md").write_text(
        (faq_dir / "payment.md").read_text(encoding="utf-8") + "\nGift cards too.\n",
        encoding="utf-8",
    )
    wrong = {"message": "what is the capital of australia", "expect": "returns-window"}
    good.write_text(json.dumps({"id": "off", "turns": [wrong]}) + "\n", encoding="utf-8")
    assert gated_run(args, settings, make_pipeline(), [faq_dir]) == 1
    assert store.pointer().current == "v000001" and store.garbage_versions() == []
