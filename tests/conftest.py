"""Shared fixtures: one real embedding model per test session, fresh index folders per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ingest.pipeline import IngestPipeline
from service.config import Settings
from service.retrieval.embedder import OnnxEmbedder
from service.retrieval.retriever import Retriever
from service.retrieval.store import IndexStore
from service.retrieval.vector_index import make_vector_backend
from tests.databases import mariadb_url, postgres_url, redis_url, sqlite_url  # noqa: F401 (fixtures)
from tests.servers import chroma_server, llama_server  # noqa: F401 (fixtures)

# The tiers follow from what a test uses, not from a marker someone must remember:
# everything under tests/integration and tests/browser, and any test that asks for a
# real model, index server, database or browser, is left out of `make test-unit`.
REAL_PARTS = frozenset(
    {"embedder", "chroma_server", "llama_server", "postgres_url", "mariadb_url", "redis_url"}
)


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        folder = item.path.parent.name
        if folder == "browser" or "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
        if folder in ("integration", "browser") or REAL_PARTS & set(
            getattr(item, "fixturenames", ())
        ):
            item.add_marker(pytest.mark.integration)


SMALL_FAQ = {
    "returns.md": """---
category: Returns
url: https://help.example/returns
updated: 2026-01-01
---

## How long do I have to return an item? {#returns-window}
You can return unworn items within 30 days of delivery.

Also asked:
- what is the return period
- how many days to send something back

## How do I get a return label? {#returns-label}
Open Returns in your account and print the prepaid label.

Also asked:
- where is the returns label
""",
    "shipping.md": """---
category: Shipping
url: https://help.example/shipping
---

## Which countries do you ship to? {#shipping-countries}
We ship to the EU, the UK, Switzerland and Norway.

Also asked:
- do you deliver to the united kingdom
- can I get my order shipped abroad

## How much does shipping cost? {#shipping-cost}
Standard shipping is free over 75 euros, otherwise 4.95 euros.

Also asked:
- what are the delivery fees
""",
    "payment.md": """---
id: payment-methods
title: Which payment methods do you accept?
category: Payments
questions:
  - can I pay with paypal
  - do you take credit cards
---
Visa, Mastercard, PayPal and Klarna invoice.
""",
}


@pytest.fixture(scope="session")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> OnnxEmbedder:
    """The default runtime (onnx), exported into a private folder once per session."""
    cache = tmp_path_factory.mktemp("models")
    return OnnxEmbedder(Settings().embedding.model_copy(update={"cache_dir": cache}))


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "faq"
    folder.mkdir()
    for name, text in SMALL_FAQ.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


# Tests that are not about the per-client limits send many requests from one address and
# session; they run the limits' code with buckets too large to matter. The limits' own
# tests (test_abuse.py, test_client_limits.py) set theirs.
ROOMY = {"per_minute": 1_000_000, "burst": 100_000}
ROOMY_LIMITS = {
    f"{name}_per_{by}": ROOMY
    for name, by in [
        ("chat", "address"),
        ("chat", "session"),
        ("handoff", "address"),
        ("feedback", "address"),
        ("login", "address"),
    ]
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(index={"path": tmp_path / "index"}, limits=ROOMY_LIMITS)


@pytest.fixture
def make_pipeline(settings: Settings, embedder: OnnxEmbedder) -> Callable[..., IngestPipeline]:
    def make(**overrides: object) -> IngestPipeline:
        s = settings.model_copy(update=overrides) if overrides else settings
        store = IndexStore(s.index.path, s.index.keep_versions)
        return IngestPipeline(
            s, embedder, make_vector_backend(s.index, embedder), store, log=lambda _: None
        )

    return make


@pytest.fixture
def open_retriever(settings: Settings, embedder: OnnxEmbedder) -> Callable[[], Retriever]:
    def open_() -> Retriever:
        store = IndexStore(settings.index.path)
        return Retriever.open(
            store, make_vector_backend(settings.index, embedder), embedder, settings.retrieval
        )

    return open_


@pytest.fixture
def chat_settings(settings: Settings, tmp_path: Path) -> Settings:
    """Index under tmp_path, SQLite under tmp_path with the migrations applied."""
    from service.db.migrations import upgrade

    url = f"sqlite:///{tmp_path / 'faqbot.db'}"
    upgrade(url)
    return settings.model_copy(update={"db": settings.db.model_copy(update={"url": url})})


@pytest.fixture
def make_app(
    chat_settings: Settings,
    faq_dir: Path,
    make_pipeline: Callable[..., IngestPipeline],
    embedder: OnnxEmbedder,
) -> Callable[..., FastAPI]:
    """Builds the app on a freshly ingested small FAQ with the given model and settings
    (each keyword is a settings group: ``chat={"answer_mode": "generate"}``)."""
    from cli.console_runner import WorkerIngestRunner
    from service.app import create_app
    from service.retrieval.live import LiveRetriever

    make_pipeline().run([faq_dir])

    def make(model: object | None = None, **updates: Any) -> FastAPI:
        s = chat_settings
        for group, values in updates.items():
            s = s.model_copy(update={group: getattr(s, group).model_copy(update=values)})
        store = IndexStore(s.index.path)
        backend = make_vector_backend(s.index, embedder)
        live = LiveRetriever(
            store, lambda v: Retriever.open(store, backend, embedder, s.retrieval, version=v)
        )
        runner = WorkerIngestRunner()  # the console publishes as under `faqbot serve`
        return create_app(s, model=model, retriever=live, ingest_runner=runner)  # type: ignore[arg-type]

    return make


@pytest.fixture
def make_client(make_app: Callable[..., FastAPI]) -> Iterator[Callable[..., TestClient]]:
    """make_app, wrapped in a started TestClient."""
    clients: list[TestClient] = []

    def make(model: object | None = None, **updates: Any) -> TestClient:
        client = TestClient(make_app(model, **updates))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def live_server(make_app: Callable[..., FastAPI]) -> Iterator[Callable[..., str]]:
    """make_app served by a real uvicorn server (as `faqbot serve` runs it) on a free
    port; returns its base URL."""
    from tests.live_server import LiveServer

    servers: list[LiveServer] = []

    def start(model: object | None = None, **updates: Any) -> str:
        app = make_app(model, **updates)
        server = LiveServer(app, Settings())
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()
