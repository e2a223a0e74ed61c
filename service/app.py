"""create_app(settings): the FastAPI service, its parts built in the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from service.api import chat, feedback, health
from service.api import orders as orders_api
from service.chat.service import ChatService
from service.config import Settings
from service.db.chat_store import ChatStore, SqlChatStore, make_engine
from service.llm.base import ChatModel, ModelUnavailable
from service.llm.factory import make_chat_model
from service.logging_setup import install_pii_filter
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
        engine = None
        chat_store = store
        if chat_store is None:
            engine = make_engine(settings.db.url)
            chat_store = SqlChatStore(engine)
        current = retriever
        if current is None:
            embedder = build_embedder(settings)
            index_store = build_store(settings)
            backend = build_backend(settings, embedder)
            current = LiveRetriever(
                index_store,
                lambda: Retriever.open(index_store, backend, embedder, settings.retrieval),
            ).current
        chat_model = model or make_chat_model(settings.llm)
        try:
            await chat_model.check()
        except ModelUnavailable as exc:
            # Not fatal: answers fall back to canonical FAQ text and /readyz says why.
            log.warning("model unavailable: %s", exc)
        try:
            current().search("warm up")  # load the index and the embedder before traffic
        except Exception as exc:
            log.warning("index not ready: %s", exc)
        app.state.settings = settings
        app.state.retriever = current
        app.state.model = chat_model
        app.state.store = chat_store
        order_engine = None
        assistant = orders
        if assistant is None and settings.orders.enabled:
            order_url = settings.orders.db_url or settings.db.url
            if engine is not None and order_url == settings.db.url:
                order_engine_used = engine
            else:
                order_engine = order_engine_used = make_engine(order_url)
            assistant = OrderAssistant(OrderRepository(order_engine_used), settings.orders)
        app.state.orders = assistant
        app.state.chat = ChatService(settings, current, chat_model, chat_store, orders=assistant)
        try:
            yield
        finally:
            await chat_model.close()
            for e in (engine, order_engine):
                if e is not None:
                    e.dispose()

    install_pii_filter()
    app = FastAPI(
        title="faqbot",
        version="0.1.0",
        description="Grounded, cited answers from the shop's FAQ.",
        lifespan=lifespan,
    )
    app.include_router(chat.router)
    app.include_router(feedback.router)
    app.include_router(orders_api.router)
    app.include_router(health.router)
    return app
