"""A shop nobody tuned for: Velora Cycles (tests/fixtures/velora), a bike shop's FAQ of
25 entries with two phrasings each and no decline examples, asked 62 questions written
unlike its phrasings (typos, one word, long-winded) and 35 off-topic ones, many close
to its trade.

Without a decline list its abstain threshold is balanced at ingest on held-out
phrasings, left-out entries and faqbot's generic questions (calibration.py); the same
procedure is checked on Northwind with its decline list taken away. The floors guard
what the shipped defaults measured, a few points below; the procedure was chosen on
Northwind and checked once on Velora (docs/retrieval.md), nothing on these questions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.pipeline import IngestPipeline
from service.config import Settings
from service.retrieval.evaluation import load_queries, run_queries, summarize
from service.retrieval.retriever import Retriever

pytestmark = pytest.mark.integration
VELORA = Path(__file__).resolve().parents[1] / "fixtures" / "velora"


def test_a_new_shop_without_a_decline_list_keeps_its_measured_figures(
    make_pipeline: Callable[..., IngestPipeline],
    open_retriever: Callable[[], Retriever],
    settings: Settings,
) -> None:
    orders = settings.orders.model_copy(update={"returns_window_entry": None})
    report = make_pipeline(orders=orders).run([VELORA / "faq"])
    assert report.published and report.calibration is not None
    retriever = open_retriever()
    queries = load_queries(VELORA / "questions.jsonl", set(retriever.manifest.entries))
    metrics = summarize(run_queries(retriever, queries), retriever.abstain_threshold)
    assert metrics.n_in_scope == 62 and metrics.n_out_of_scope == 35
    assert metrics.recall_at_1 is not None and metrics.recall_at_1 >= FLOORS["recall_at_1"]
    assert metrics.in_scope_accuracy is not None
    assert metrics.in_scope_accuracy >= FLOORS["in_scope_accuracy"]
    assert metrics.oos_recall is not None and metrics.oos_recall >= FLOORS["oos_recall"]


def test_ingest_advises_where_the_shops_faq_will_confuse_customers(
    make_pipeline: Callable[..., IngestPipeline], settings: Settings, tmp_path: Path
) -> None:
    faq = tmp_path / "faq"
    faq.mkdir()
    (faq / "billing.md").write_text(
        "## How do I get my invoice? {#get-invoice}\nIn your account under Orders.\n\n"
        "## How do I get an invoice? {#check-invoice}\nWe email it when the order ships.\n\n"
        "## Do you ship abroad? {#abroad}\nTo the EU and Switzerland.\n\nAlso asked:\n"
        "- international delivery\n- shipping outside germany\n",
        encoding="utf-8",
    )
    orders = settings.orders.model_copy(update={"returns_window_entry": None})
    report = make_pipeline(orders=orders).run([faq])
    assert report.published
    advice = "\n".join(report.advice)
    assert 'entry "get-invoice" has no other phrasings' in advice
    assert "(get-invoice) and" in advice and "check-invoice" in advice
    assert "ask nearly the same" in advice


# measured at shipped defaults (docs/retrieval.md): 0.871, 0.758, 0.800
FLOORS = {"recall_at_1": 0.84, "in_scope_accuracy": 0.72, "oos_recall": 0.77}


def test_our_own_faq_without_its_decline_list_is_calibrated_all_the_same(
    make_pipeline: Callable[..., IngestPipeline],
    open_retriever: Callable[[], Retriever],
    tmp_path: Path,
) -> None:
    import shutil

    root = Path(__file__).resolve().parents[2]
    faq = tmp_path / "northwind"
    shutil.copytree(root / "data" / "faq", faq)
    for declines in faq.rglob("decline*"):
        declines.unlink()
    report = make_pipeline().run([faq])
    assert report.calibration is not None and "balanced" in report.calibration.method
    retriever = open_retriever()
    queries = load_queries(
        root / "data" / "eval" / "questions.jsonl", set(retriever.manifest.entries)
    )
    metrics = summarize(run_queries(retriever, queries), retriever.abstain_threshold)
    # measured 0.865 and 0.969 (the fixed default 0.50 before: 0.805 and 0.969)
    assert metrics.in_scope_accuracy is not None and metrics.in_scope_accuracy >= 0.83
    assert metrics.oos_recall is not None and metrics.oos_recall >= 0.93
