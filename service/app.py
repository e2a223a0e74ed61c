"""create_app(settings): the FastAPI service, its parts built in the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import sqlalchemy as sa
from fastapi import FastAPI

from service.api import chat, feedback, health
from service.api import orders as orders_api
from service.api.errors import register_error_handlers
from service.api.middleware import BodyLimit, ClientAddress
from service.chat.history import HistoryWriter
from service.chat.service import ChatService
from service.chat.store import ChatStore
from service.config import Settings
from service.db.chat_store import SqlChatStore
from service.db.engine import engine_for
from service.db.guard import DatabaseGuard, guard_for
from service.llm.base import ChatModel, ModelError
from service.llm.factory import make_chat_model
from service.logging_setup import configure_logging
from service.orders.assistant import OrderAssistant
from service.orders.repository import OrderRepository
from service.retrieval.components import build_backend, build_embedder, build_store
from service.retrieval.live import LiveRetriever
from service.retrieval.retriever import Retriever

log = logging.getLogger("faqbot")


def create_app(
    settings: Settings,
    *,
    model: ChatModel | None = None,
    retriever: Callable[[], Retriever] | None = None,
    store: ChatStore | None = None,
    orders: OrderAssistant | None = None,
) -> FastAPI:
    """Parts not given are built from settings when the app starts (tests and benchmarks
    pass their own, e.g. an instant model)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engines: list[sa.Engine] = []
        guards: list[DatabaseGuard] = []
        chat_store = store
        if chat_store is None:
            engine = engine_for(settings.db.url, settings.db, settings.db.timeout_s)
            guard = guard_for("chat", settings.db, settings.db.timeout_s)
            engines.append(engine)
            guards.append(guard)
            chat_store = SqlChatStore(engine, guard)
        current = retriever or _live_retriever(settings)
        chat_model = model or make_chat_model(settings.llm)
        try:
            await chat_model.check()
        except ModelError as exc:
            # Not fatal: answers fall back to canonical FAQ text and /readyz says so.
            log.warning("model unavailable: %s", exc)
        try:
            current().search("warm up")  # load the index and the embedder before traffic
        except Exception as exc:
            log.warning("index not ready: %s", exc)
        assistant = orders
        if assistant is None and settings.orders.enabled:
            assistant = _order_assistant(settings, engines, guards)
        history = HistoryWriter(chat_store)
        app.state.settings = settings
        app.state.retriever = current
        app.state.model = chat_model
        app.state.store = chat_store
        app.state.orders = assistant
        app.state.chat = ChatService(
            settings, current, chat_model, chat_store, orders=assistant, history=history
        )
        try:
            yield
        finally:
            await history.drain(timeout_s=5.0)
            await chat_model.close()
            for g in guards:
                g.close()
            for e in engines:
                e.dispose()

    configure_logging(settings.logging)
    app = FastAPI(
        title="faqbot",
        version="0.1.0",
        description="Grounded, cited answers from the shop's FAQ.",
        lifespan=lifespan,
    )
    register_error_handlers(app)
    # The last added runs first: the body limit before anything reads the body, then the
    # client address before anything counts attempts by it.
    app.add_middleware(ClientAddress, trusted=settings.server.trusted_proxies)
    app.add_middleware(BodyLimit, max_bytes=settings.server.max_body_bytes)
    app.include_router(chat.router)
    app.include_router(feedback.router)
    app.include_router(orders_api.router)
    app.include_router(health.router)
    return app


def _live_retriever(settings: Settings) -> Callable[[], Retriever]:
    embedder = build_embedder(settings)
    index_store = build_store(settings)
    backend = build_backend(settings, embedder)
    return LiveRetriever(
        index_store,
        lambda: Retriever.open(index_store, backend, embedder, settings.retrieval),
    ).current


def _order_assistant(
    settings: Settings, engines: list[sa.Engine], guards: list[DatabaseGuard]
) -> OrderAssistant:
    """Orders get their own engine and threads even when they share the chat database's
    URL: a slow order query must not hold the threads chat history needs, and back."""
    url = settings.orders.db_url or settings.db.url
    engine = engine_for(url, settings.db, settings.orders.db_timeout_s)
    guard = guard_for("orders", settings.db, settings.orders.db_timeout_s)
    engines.append(engine)
    guards.append(guard)
    return OrderAssistant(
        OrderRepository(engine),
        settings.orders,
        guard=guard,
        contact=settings.chat.contact,
    )
