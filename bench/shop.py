"""The shop's own FAQ (data/faq) in a fresh index, for benchmarks that need a real one."""

from __future__ import annotations

from pathlib import Path

from ingest.pipeline import IngestPipeline
from service.config import Settings
from service.retrieval.components import build_backend, build_embedder, build_store

ROOT = Path(__file__).resolve().parents[1]


def ingest_shop_faq(settings: Settings) -> None:
    embedder = build_embedder(settings)
    IngestPipeline(
        settings,
        embedder,
        build_backend(settings, embedder),
        build_store(settings),
        log=lambda _: None,
    ).run([ROOT / "data" / "faq"])
