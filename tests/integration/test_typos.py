"""A customer's typos through real retrieval (the ONNX embedder, Chroma, BM25): the
mistyped question finds the entry the spelt one finds, with the same confidence; what
is stored and shown stays as typed; and the setting turns it off."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.pipeline import IngestPipeline
from service.config import Settings
from service.retrieval.retriever import Retriever
from service.retrieval.store import IndexStore
from service.retrieval.vector_index import make_vector_backend

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_a_mistyped_question_is_searched_as_the_faqs_words(
    make_pipeline: Callable[..., IngestPipeline],
    open_retriever: Callable[[], Retriever],
    settings: Settings,
    embedder: object,
) -> None:
    make_pipeline().run([ROOT / "data" / "faq"])
    retriever = open_retriever()
    typed = retriever.search("how lnog do i hvae to retrun an itme")
    spelt = retriever.search("how long do i have to return an item")
    assert typed.top is not None and spelt.top is not None
    assert typed.top.entry_id == spelt.top.entry_id == "returns-window"
    assert typed.confidence == pytest.approx(spelt.confidence)
    assert typed.query == "how lnog do i hvae to retrun an itme"  # stored as typed
    assert retriever.search("forgot my pasword").top.entry_id == "account-password-reset"  # type: ignore[union-attr]

    off = settings.retrieval.model_copy(update={"correct_typos": False})
    store = IndexStore(settings.index.path)
    plain = Retriever.open(store, make_vector_backend(settings.index, embedder), embedder, off)  # type: ignore[arg-type]
    assert plain.spelt("forgot my pasword") == "forgot my pasword"
    assert plain.search("how lnog do i hvae to retrun an itme").confidence < typed.confidence
