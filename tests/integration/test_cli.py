"""The `faqbot` command end to end, as ops and editors run it (subprocesses, real model)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.retrieval.embedder import OnnxEmbedder

pytestmark = pytest.mark.integration

FAQS = [
    {
        "id": "hours",
        "question": "When are you open?",
        "answer": "Monday to Friday 8-20.",
        "questions": ["opening hours", "what time do you open"],
    },
    {
        "id": "returns",
        "question": "How long do I have to return an item?",
        "answer": "30 days from delivery.",
        "questions": ["return window", "return period"],
    },
    {
        "id": "giftcard",
        "question": "How do I check my gift card balance?",
        "answer": "Enter the card number on the gift card page.",
        "questions": ["gift card balance", "money left on voucher"],
    },
    {
        "id": "shipping",
        "question": "Which countries do you ship to?",
        "answer": "The EU, the UK, Switzerland and Norway.",
        "questions": ["do you deliver abroad", "international shipping"],
    },
]
QUERIES = [
    {"query": "what are your opening hours?", "faq_id": "hours"},
    {"query": "how many days do I have to return an item", "faq_id": "returns"},
    {"query": "how much money is left on my gift card", "faq_id": "giftcard"},
    {"query": "do you ship to norway", "faq_id": "shipping"},
    {"query": "what is the boiling point of mercury in kelvin", "faq_id": None},
]


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def cli_env(tmp_path: Path, embedder: OnnxEmbedder) -> dict[str, str]:
    return {
        **os.environ,
        # A generic FAQ: no returns-window entry for order answers to quote.
        "FAQBOT_ORDERS__RETURNS_WINDOW_ENTRY": "",
        "FAQBOT_INDEX__PATH": str(tmp_path / "index"),
        # reuse the session's exported graph instead of exporting again
        "FAQBOT_EMBEDDING__CACHE_DIR": str(embedder.onnx_path.parent),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_eval_json_on_a_set_whose_answers_are_known(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    faqs = write_jsonl(tmp_path / "faqs.jsonl", FAQS)
    queries = write_jsonl(tmp_path / "queries.jsonl", QUERIES)
    out = tmp_path / "out"
    proc = run(
        ["eval", "--faqs", str(faqs), "--queries", str(queries), "--json", "--out", str(out)],
        cli_env,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert {
        "recall_at_1",
        "recall_at_5",
        "mrr",
        "in_scope_accuracy",
        "oos_recall",
        "n_queries",
    } <= set(result)
    assert result["n_queries"] == 5
    assert result["recall_at_1"] == 1.0 and result["recall_at_5"] == 1.0 and result["mrr"] == 1.0
    assert result["oos_recall"] == 1.0
    rows = (out / "threshold_sweep.csv").read_text().splitlines()
    assert rows[0] == "threshold,in_scope_accuracy,oos_recall,abstention_accuracy"
    assert len(rows) == 102  # header + thresholds 0.00 .. 1.00
    assert (out / "threshold_sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result["misses"] == 0 and (out / "misses.jsonl").read_text() == ""
    # evaluation never touches the live index
    assert not (tmp_path / "index").exists()


def test_eval_reports_a_query_pointing_at_an_unknown_entry(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    faqs = write_jsonl(tmp_path / "faqs.jsonl", FAQS)
    queries = write_jsonl(tmp_path / "q.jsonl", [{"query": "hi", "faq_id": "nope"}])
    proc = run(["eval", "--faqs", str(faqs), "--queries", str(queries)], cli_env, tmp_path)
    assert proc.returncode == 1
    assert f'{queries}:1: faq_id "nope" is not an entry of the index' in proc.stderr


def test_ingest_dry_run_ask_and_rollback(tmp_path: Path, cli_env: dict[str, str]) -> None:
    faqs = write_jsonl(tmp_path / "faqs.jsonl", FAQS)
    dry = run(["ingest", str(faqs), "--dry-run"], cli_env, tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "dry run, nothing written: 4 entries from 1 file(s): added 4" in dry.stdout
    assert not (tmp_path / "index").exists()

    first = run(["ingest", str(faqs)], cli_env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "published v000001" in first.stdout
    assert "embedding:" in first.stderr  # progress lines when not on a terminal

    again = run(["ingest", str(faqs)], cli_env, tmp_path)
    assert "nothing changed" in again.stdout

    ask = run(["ask", "--json", "which countries do you deliver to?"], cli_env, tmp_path)
    assert ask.returncode == 0, ask.stderr
    answer = json.loads(ask.stdout)
    assert answer["hits"][0]["id"] == "shipping" and answer["abstain"] is False
    assert set(answer["timings_ms"]) >= {"embed", "vector", "total"}

    write_jsonl(faqs, FAQS[:3])
    assert "removed 1" in run(["ingest", str(faqs)], cli_env, tmp_path).stdout
    back = run(["ingest", "--rollback"], cli_env, tmp_path)
    assert back.returncode == 0 and "v000001 is live again" in back.stdout


def test_cli_errors_are_clear(tmp_path: Path, cli_env: dict[str, str]) -> None:
    no_index = run(["ask", "hello"], cli_env, tmp_path)
    assert no_index.returncode == 1
    assert "no index has been published" in no_index.stderr and "Traceback" not in no_index.stderr

    bad = tmp_path / "faq"
    bad.mkdir()
    (bad / "x.md").write_text("---\nid: [oops\n---\nbody\n", encoding="utf-8")
    broken = run(["ingest", str(bad)], cli_env, tmp_path)
    assert broken.returncode == 1
    assert f"{bad / 'x.md'}:2: broken front matter" in broken.stderr
    assert "nothing was published" in broken.stderr

    rollback = run(["ingest", "--rollback"], cli_env, tmp_path)
    assert rollback.returncode == 1 and "nothing to roll back" in rollback.stderr


def test_db_upgrade_and_demo_seed(tmp_path: Path, cli_env: dict[str, str]) -> None:
    env = {**cli_env, "FAQBOT_DB__URL": f"sqlite:///{tmp_path / 'db' / 'faqbot.db'}"}
    up = run(["db", "upgrade"], env, tmp_path)
    assert up.returncode == 0, up.stderr
    seeded = run(["db", "seed", "--demo", "--orders", "200"], env, tmp_path)
    assert seeded.returncode == 0 and "seeded 200 demo orders" in seeded.stdout
    again = run(["db", "seed", "--demo"], env, tmp_path)
    assert again.returncode == 1 and "already has orders" in again.stderr
    skipped = run(["db", "seed", "--demo", "--if-empty"], env, tmp_path)
    assert skipped.returncode == 0 and "skipped" in skipped.stdout
    down = run(["db", "downgrade", "base"], env, tmp_path)
    assert down.returncode == 0, down.stderr


def test_eval_answers_scores_what_customers_would_read(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    faqs = write_jsonl(tmp_path / "faqs.jsonl", FAQS)
    queries = write_jsonl(tmp_path / "queries.jsonl", QUERIES)
    out = tmp_path / "out"
    args = ["eval", "--answers", "--answer-mode", "canonical_first", "--faqs", str(faqs)]
    proc = run([*args, "--queries", str(queries), "--json", "--out", str(out)], cli_env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    overall = json.loads(proc.stdout)
    assert overall["n"] == 5 and overall["unsupported_answers"] == 0
    assert overall["degenerate_answers"] == 0 and overall["citation_accuracy"] == 1.0
    report = json.loads((out / "answers.json").read_text())
    # canonical_first never asks the model: verbatim when certain, sentences otherwise
    assert {"canonical", "abstained"} <= set(report["by_mode"])
    assert set(report["by_mode"]) <= {"canonical", "extractive", "abstained"}
    assert len(report["answers"]) == 5
    table = run([*args, "--queries", str(queries), "--out", str(out)], cli_env, tmp_path)
    assert "answer mode canonical_first, guard on" in table.stdout
