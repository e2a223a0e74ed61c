"""HTTP mode (FAQBOT_INDEX__HOST set) against a real Chroma server started with
`chroma run`, the server that ships with the chromadb package."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.pipeline import IngestPipeline
from service.config import Settings
from service.retrieval.embedder import OnnxEmbedder
from service.retrieval.retriever import Retriever
from service.retrieval.store import IndexStore
from service.retrieval.vector_index import HttpChromaBackend, make_vector_backend

pytestmark = pytest.mark.integration


def test_ingest_and_search_through_a_chroma_server(
    chroma_server: int, faq_dir: Path, tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    settings = Settings(
        index={"path": tmp_path / "state", "host": "127.0.0.1", "port": chroma_server}
    )
    backend = make_vector_backend(settings.index, embedder)
    assert isinstance(backend, HttpChromaBackend)
    store = IndexStore(settings.index.path)

    def ingest() -> None:
        IngestPipeline(settings, embedder, backend, store, log=lambda _: None).run([faq_dir])

    ingest()
    assert backend.versions() >= {"v000001"}
    retriever = Retriever.open(store, backend, embedder, settings.retrieval)
    top = retriever.search("can I pay with paypal?").top
    assert top is not None and top.entry_id == "payment-methods"

    (faq_dir / "payment.md").unlink()
    ingest()
    (faq_dir / "shipping.md").write_text(
        (faq_dir / "shipping.md").read_text().replace("4.95", "5.95"), encoding="utf-8"
    )
    ingest()
    # Three publishes, two kept (live + previous); the oldest collection was dropped.
    assert {"v000002", "v000003"} <= backend.versions()
    assert "v000001" not in backend.versions()
    retriever = Retriever.open(store, backend, embedder, settings.retrieval)
    assert retriever.version == "v000003" and len(retriever) == 4
    hit = retriever.search("how much is shipping?").top
    assert hit is not None and "5.95" in hit.answer
