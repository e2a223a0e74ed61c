"""Decline examples and the calibration made at ingest, through the real model and Chroma."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from ingest.pipeline import IngestPipeline
from service.config import Settings
from service.retrieval.embedder import Embedder
from service.retrieval.neighbours import NeighbourClassifier, load_classifier
from service.retrieval.retriever import Retriever
from service.retrieval.schema import CLASSIFIER_FILE
from service.retrieval.store import IndexStore
from service.retrieval.vector_index import make_vector_backend

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
OFF_TOPIC = [
    "Tell me a joke",
    "What is the weather in Paris tomorrow?",
    "Who won the football match?",
    "Write a poem about the sea",
    "What is the capital of Peru?",
    "How do I bake sourdough bread?",
    "Can you fix my car?",
    "What time is it in Tokyo?",
]


def test_the_shop_faq_is_calibrated_on_its_own_decline_list(
    make_pipeline: Callable[..., IngestPipeline], open_retriever: Callable[[], Retriever]
) -> None:
    report = make_pipeline().run([ROOT / "data" / "faq"])
    calibration = report.calibration
    assert calibration is not None
    # Enough held-out decline examples to set the threshold by the out-of-scope target.
    assert calibration.decline_rows >= 20 and "default abstain" not in calibration.method
    retriever = open_retriever()
    assert retriever.abstain_threshold == calibration.abstain_threshold
    assert retriever.calibration.temperature == calibration.temperature
    assert all(retriever.search(q).abstain for q in OFF_TOPIC[:4])
    answered = retriever.search("How many days do I have to return my jacket?")
    assert not answered.abstain and answered.top is not None
    assert answered.top.entry_id == "returns-window"


def test_decline_examples_are_learnt_and_changes_to_them_publish(
    faq_dir: Path,
    make_pipeline: Callable[..., IngestPipeline],
    open_retriever: Callable[[], Retriever],
    settings: object,
) -> None:
    make_pipeline().run([faq_dir])
    before = open_retriever().search("Tell me a joke about penguins").confidence
    (faq_dir / "decline_examples.jsonl").write_text(
        "".join(json.dumps({"query": q}) + "\n" for q in OFF_TOPIC), encoding="utf-8"
    )
    report = make_pipeline().run([faq_dir])
    assert report.published and report.plan.declines_changed
    # Every entry's vectors are reused: only the decline examples are embedded.
    assert report.embedded_texts == len(OFF_TOPIC)
    retriever = open_retriever()
    after = retriever.search("Tell me a joke about penguins").confidence
    # declined before (faqbot's generic questions) and after (the shop's own too)
    assert before < retriever.abstain_threshold and after < retriever.abstain_threshold
    again = make_pipeline().run([faq_dir])
    assert not again.published


def test_a_small_edit_keeps_the_calibration_and_a_rebuild_redoes_it(
    make_pipeline: Callable[..., IngestPipeline], tmp_path: Path, settings: object
) -> None:
    faq = tmp_path / "shop"
    faq.mkdir()
    for path in (ROOT / "data" / "faq").rglob("*.md"):
        target = faq / path.relative_to(ROOT / "data" / "faq")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    first = make_pipeline().run([faq])
    assert "calibration" in first.stage_seconds
    shipping = faq / "shipping.md"
    shipping.write_text(shipping.read_text().replace("working days", "business days"))
    edit = make_pipeline().run([faq])
    assert edit.published and "calibration" not in edit.stage_seconds
    assert edit.calibration == first.calibration
    rebuilt = make_pipeline().run([faq], rebuild=True)
    assert "calibration" in rebuilt.stage_seconds


def test_a_question_both_answered_and_declined_is_refused(
    faq_dir: Path, make_pipeline: Callable[..., IngestPipeline], settings: object
) -> None:
    from ingest.pipeline import IngestError

    question = (faq_dir / "returns.md").read_text().split("## ")[1].split("{#")[0].strip()
    (faq_dir / "declines.md").write_text(f"- {question}\n- Tell me a joke\n", encoding="utf-8")
    with pytest.raises(IngestError) as info:
        make_pipeline().run([faq_dir])
    assert any("is also a question of entry" in line for line in info.value.lines)
    assert IndexStore(make_pipeline().settings.index.path).pointer().current is None


def test_an_index_built_before_calibration_is_calibrated_by_the_next_ingest(
    faq_dir: Path, make_pipeline: Callable[..., IngestPipeline], settings: object
) -> None:
    first = make_pipeline().run([faq_dir])
    manifest = Path(make_pipeline().settings.index.path) / "versions" / "v000001" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["calibration"] = {}
    manifest.write_text(json.dumps(data))
    again = make_pipeline().run([faq_dir])
    assert again.published and again.plan.refresh
    assert again.embedded_texts == 0 and "calibration" in again.stage_seconds
    # the same calibration (the temperature to rounding: BLAS threads may add in another
    # order)
    assert again.calibration is not None and first.calibration is not None
    assert again.calibration.temperature == pytest.approx(first.calibration.temperature, rel=1e-4)
    assert replace(again.calibration, temperature=0) == replace(first.calibration, temperature=0)


def test_a_large_faq_gets_the_neighbour_classifier_calibrated_the_same_way(
    make_pipeline: Callable[..., IngestPipeline], settings: Settings, embedder: Embedder
) -> None:
    """``classifier_max_entries=0`` makes the shop's FAQ "large": no linear fit."""
    large = settings.retrieval.model_copy(update={"classifier_max_entries": 0})
    report = make_pipeline(retrieval=large).run([ROOT / "data" / "faq"])
    calibration = report.calibration
    assert calibration is not None and calibration.decline_rows >= 20
    assert "default abstain" not in calibration.method
    store = IndexStore(settings.index.path)
    live = store.require_live().version
    stored = load_classifier(store.version_dir(live) / CLASSIFIER_FILE)
    assert isinstance(stored, NeighbourClassifier)
    backend = make_vector_backend(settings.index, embedder)
    retriever = Retriever.open(store, backend, embedder, large)
    assert retriever.abstain_threshold == calibration.abstain_threshold
    assert all(retriever.search(q).abstain for q in OFF_TOPIC[:4])
    answered = retriever.search("How many days do I have to return my jacket?")
    assert not answered.abstain and answered.top is not None
    assert answered.top.entry_id == "returns-window"
    assert answered.top.classifier == 0.0  # it adds nothing to the ranking
