"""Builds the retrieval parts from settings; the one place that picks implementations."""

from __future__ import annotations

from service.config import Settings
from service.retrieval.embedder import Embedder, make_embedder
from service.retrieval.retriever import Retriever
from service.retrieval.store import IndexStore
from service.retrieval.vector_index import VectorBackend, make_vector_backend


def build_embedder(settings: Settings) -> Embedder:
    return make_embedder(settings.embedding)


def build_store(settings: Settings) -> IndexStore:
    return IndexStore(settings.index.path, settings.index.keep_versions)


def build_backend(settings: Settings, embedder: Embedder) -> VectorBackend:
    return make_vector_backend(settings.index, embedder)


def open_retriever(settings: Settings, embedder: Embedder | None = None) -> Retriever:
    embedder = embedder or build_embedder(settings)
    return Retriever.open(
        build_store(settings), build_backend(settings, embedder), embedder, settings.retrieval
    )
