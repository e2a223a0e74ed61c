"""Ingest through the real embedding model and real (embedded) Chroma."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.generic import generic_questions
from ingest.pipeline import IngestError, IngestPipeline
from service.config import Settings
from service.retrieval.embedder import OnnxEmbedder
from service.retrieval.retriever import Retriever
from service.retrieval.store import IndexStore, IndexStoreError, IngestLocked

pytestmark = pytest.mark.integration

MakePipeline = Callable[..., IngestPipeline]
OpenRetriever = Callable[[], Retriever]


def pretend_built_with_another_model(settings: Settings) -> None:
    manifest_path = settings.index.path / "versions" / "v000001" / "manifest.json"
    manifest_path.write_text(
        manifest_path.read_text().replace('"model_id": "all-MiniLM', '"model_id": "other-model'),
        encoding="utf-8",
    )


def test_first_ingest_publishes_and_finds_the_right_entry(
    faq_dir: Path, make_pipeline: MakePipeline, open_retriever: OpenRetriever
) -> None:
    report = make_pipeline().run([faq_dir])
    assert report.published and report.version == "v000001"
    assert (len(report.plan.added), report.plan.rebuild) == (5, True)
    retriever = open_retriever()
    result = retriever.search("how many days do I have to send back a jacket?")
    assert result.top is not None and result.top.entry_id == "returns-window"
    assert result.top.url == "https://help.example/returns#returns-window"
    assert not result.abstain


def test_rerun_with_nothing_changed_embeds_nothing_and_publishes_nothing(
    faq_dir: Path,
    make_pipeline: MakePipeline,
    embedder: OnnxEmbedder,
    settings: Settings,
) -> None:
    make_pipeline().run([faq_dir])
    calls = embedder.calls
    report = make_pipeline().run([faq_dir])
    assert embedder.calls == calls
    assert not report.published
    assert (len(report.plan.unchanged), report.plan.has_changes) == (5, False)
    assert IndexStore(settings.index.path).pointer().current == "v000001"


def test_edit_embeds_only_the_changed_entry(
    faq_dir: Path, make_pipeline: MakePipeline, open_retriever: OpenRetriever
) -> None:
    make_pipeline().run([faq_dir])
    path = faq_dir / "shipping.md"
    path.write_text(
        path.read_text().replace("free over 75 euros", "free over 50 euros"), encoding="utf-8"
    )
    report = make_pipeline().run([faq_dir])
    assert report.plan.changed == ["shipping-cost"]
    assert len(report.plan.unchanged) == 4
    # shipping-cost has a question, one phrasing and one chunk: three texts, nothing else
    assert report.embedded_texts == 3
    hit = open_retriever().search("what does delivery cost?").top
    assert hit is not None and "50 euros" in hit.answer


def test_deleted_entry_is_removed(
    faq_dir: Path, make_pipeline: MakePipeline, open_retriever: OpenRetriever
) -> None:
    make_pipeline().run([faq_dir])
    (faq_dir / "payment.md").unlink()
    report = make_pipeline().run([faq_dir])
    assert report.plan.removed == ["payment-methods"]
    assert report.embedded_texts == 0
    retriever = open_retriever()
    assert len(retriever) == 4
    ids = {h.entry_id for h in retriever.search("can I pay with paypal?", top_k=10).hits}
    assert "payment-methods" not in ids


def test_an_update_changes_only_the_edited_records_of_a_copy_of_the_live_vectors(
    faq_dir: Path, make_pipeline: MakePipeline, settings: Settings, embedder: OnnxEmbedder
) -> None:
    from ingest.chunking import entry_records
    from service.retrieval.vector_index import make_vector_backend
    from service.sources.parse import parse_sources

    make_pipeline().run([faq_dir])
    backend = make_vector_backend(settings.index, embedder)
    before = backend.open("v000001").get_all()
    path = faq_dir / "shipping.md"
    path.write_text(path.read_text().replace("75 euros", "50 euros"), encoding="utf-8")
    (faq_dir / "payment.md").unlink()
    report = make_pipeline().run([faq_dir])
    assert report.version == "v000002" and report.embedded_texts == 3
    after = backend.open("v000002").get_all()
    expected = [r.id for e in parse_sources([faq_dir]).entries for r in entry_records(e)]
    assert sorted(after.ids) == sorted(expected)  # nothing stale, nothing missing
    old = dict(zip(before.ids, before.embeddings, strict=True))
    new = dict(zip(after.ids, after.embeddings, strict=True))
    changed = {rid for rid in new if rid.startswith("shipping-cost")}
    assert all((new[rid] == old[rid]).all() for rid in set(new) - changed)
    assert not any((new[rid] == old[rid]).all() for rid in changed if rid.endswith("chunk:0"))
    # the live version it was copied from is untouched, for rollback
    assert sorted(backend.open("v000001").get_all().ids) == sorted(before.ids)


def test_dry_run_reports_the_diff_and_writes_nothing(
    faq_dir: Path, make_pipeline: MakePipeline, settings: Settings
) -> None:
    report = make_pipeline().run([faq_dir], dry_run=True)
    assert len(report.plan.added) == 5
    assert not settings.index.path.exists()


def test_validation_errors_publish_nothing_unless_skipped(
    faq_dir: Path, make_pipeline: MakePipeline, settings: Settings, open_retriever: OpenRetriever
) -> None:
    (faq_dir / "broken.md").write_text("---\ncategory: X\n---\n\n## Empty? {#empty}\n\n")
    with pytest.raises(IngestError) as err:
        make_pipeline().run([faq_dir])
    assert err.value.lines == [f'{faq_dir / "broken.md"}:5: entry "empty": empty answer']
    assert IndexStore(settings.index.path).pointer().current is None

    report = make_pipeline().run([faq_dir], skip_invalid=True)
    assert report.published and len(report.warnings) == 1
    assert len(open_retriever()) == 5


def test_rollback_restores_the_previous_version(
    faq_dir: Path, make_pipeline: MakePipeline, settings: Settings, open_retriever: OpenRetriever
) -> None:
    make_pipeline().run([faq_dir])
    (faq_dir / "payment.md").unlink()
    make_pipeline().run([faq_dir])
    assert len(open_retriever()) == 4
    IndexStore(settings.index.path).rollback()
    retriever = open_retriever()
    assert retriever.version == "v000001" and len(retriever) == 5


def test_a_second_concurrent_ingest_is_refused(
    faq_dir: Path, make_pipeline: MakePipeline, settings: Settings
) -> None:
    with (
        IndexStore(settings.index.path).lock(),
        pytest.raises(IngestLocked, match="another ingest"),
    ):
        make_pipeline().run([faq_dir])


def test_model_mismatch_is_refused_and_names_rebuild(
    faq_dir: Path, make_pipeline: MakePipeline, settings: Settings
) -> None:
    make_pipeline().run([faq_dir])
    pretend_built_with_another_model(settings)
    with pytest.raises(IngestError, match="--rebuild"):
        make_pipeline().run([faq_dir])
    report = make_pipeline().run([faq_dir], rebuild=True)
    # the FAQ's 18 texts, and faqbot's generic questions (ingest/generic.py) again
    assert report.published and report.embedded_texts == 18 + len(generic_questions("en"))


def test_retriever_refuses_an_index_built_with_another_model(
    faq_dir: Path, make_pipeline: MakePipeline, settings: Settings, open_retriever: OpenRetriever
) -> None:
    make_pipeline().run([faq_dir])
    pretend_built_with_another_model(settings)
    with pytest.raises(IndexStoreError, match="faqbot ingest --rebuild"):
        open_retriever()


def test_off_topic_questions_abstain(
    faq_dir: Path, make_pipeline: MakePipeline, open_retriever: OpenRetriever
) -> None:
    make_pipeline().run([faq_dir])
    result = open_retriever().search("what is the capital of australia?")
    assert result.abstain
    assert result.confidence < result.threshold
