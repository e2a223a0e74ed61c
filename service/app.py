"""create_app(settings): the FastAPI service, its parts built in the lifespan."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from service.admin import outcomes
from service.admin.deps import Console, open_console
from service.admin.publishing import IngestRunner, NoIngestRunner
from service.admin.routes import mount_admin
from service.api import chat, compat, content, feedback, health, observability
from service.api import handoff as handoff_api
from service.api import helpdesk as helpdesk_api
from service.api import live as live_api
from service.api import orders as orders_api
from service.api.errors import register_error_handlers
from service.api.middleware import BodyLimit, ClientAddress, LimitDoor
from service.api.observability import RequestTelemetry
from service.chat.cache import AnswerStore
from service.chat.conversations import Conversations
from service.chat.generation import generation_limiter
from service.chat.history import HistoryWriter
from service.chat.limits import GenerationLimiter
from service.chat.modes import resolved_chat_settings
from service.chat.service import ChatService
from service.chat.shared_cache import RedisAnswerCache
from service.chat.sql_store import SqlChatStore
from service.chat.store import ChatStore
from service.chat.turn_language import TurnLanguage
from service.config import Settings
from service.db.engine import engine_for
from service.db.guard import NO_SCHEMA, DatabaseGuard, guard_for
from service.db.migrations import behind
from service.delivery_worker import DeliveryWorker
from service.handoff import HandoffDesk
from service.helpdesk.chatwoot import ChatwootHelpdesk
from service.helpdesk.outbox import HelpdeskOutbox
from service.live_handoff import LiveHandoffs
from service.llm.base import ChatModel
from service.llm.factory import make_chat_model
from service.logging_setup import configure_logging
from service.metrics import LiveParts, ServiceMetrics
from service.orders.assistant import OrderAssistant
from service.orders.desk import RequestDesk
from service.orders.repository import OrderRepository
from service.orders.request_turn import RequestTurn
from service.orders.returns_window import returns_window
from service.orders.shopify_source import ShopifySource
from service.orders.sources import build_source
from service.privacy import public_contacts
from service.retrieval.components import (
    build_backend,
    build_detector,
    build_embedder,
    build_multilingual,
    build_store,
)
from service.retrieval.language import LanguageDetector
from service.retrieval.live import LiveRetriever
from service.retrieval.retriever import Retriever
from service.retrieval.store import IndexStore
from service.throttle.buckets import RateBuckets
from service.throttle.limits import ClientLimits, store_for
from service.throttle.redis_buckets import RedisBuckets
from service.throttle.sql_buckets import SqlBuckets
from service.warmup import warm_up
from service.web import routes as web
from service.web.routes import mount_static
from service.web.security import SecurityHeaders

log = logging.getLogger("faqbot")
T = TypeVar("T")


@dataclass
class _Parts:
    """What the lifespan builds and closes: the engines and thread pools it owns."""

    engines: list[sa.Engine] = field(default_factory=list)
    guards: list[DatabaseGuard] = field(default_factory=list)
    closers: list[Callable[[], None]] = field(default_factory=list)  # HTTP clients
    workers: list[DeliveryWorker] = field(default_factory=list)
    outbox_counts: Callable[[], dict[str, int]] | None = None  # /metrics, with a helpdesk

    async def aclose(self) -> None:
        for w in self.workers:
            await w.stop()
        self.close()

    def close(self) -> None:
        for g in self.guards:
            g.close()
        for e in self.engines:
            e.dispose()
        for close in self.closers:
            close()


@dataclass(frozen=True)
class _Given:
    """Parts handed in by tests and benchmarks instead of being built from settings."""

    model: ChatModel | None
    retriever: Callable[[], Retriever] | LiveRetriever | None
    store: ChatStore | None
    orders: OrderAssistant | None
    ingest_runner: IngestRunner


def create_app(
    settings: Settings,
    *,
    model: ChatModel | None = None,
    retriever: Callable[[], Retriever] | LiveRetriever | None = None,
    store: ChatStore | None = None,
    orders: OrderAssistant | None = None,
    ingest_runner: IngestRunner | None = None,
) -> FastAPI:
    """Parts not given are built from settings when the app starts (tests and benchmarks
    pass their own, e.g. an instant model). The console publishes with ingest_runner,
    which the top layer hands in (`faqbot serve`: a worker process); without one, its
    replay and publish say that this process cannot publish."""
    configure_logging(settings.logging)
    app = FastAPI(
        title="faqbot",
        version="0.1.0",
        description="Grounded, cited answers from the shop's FAQ.",
        lifespan=_lifespan(
            settings, _Given(model, retriever, store, orders, ingest_runner or NoIngestRunner())
        ),
        # Swagger UI loads its code from a CDN; the schema is at /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    register_error_handlers(app)
    app.add_exception_handler(compat.CompatError, compat.compat_error_response)
    _add_middleware(app, settings)
    for router in (
        chat.router,
        feedback.router,
        orders_api.router,
        content.router,
        handoff_api.router,
        helpdesk_api.router,
        live_api.router,
        health.router,
        observability.router,
        compat.router,
        web.router,
    ):
        app.include_router(router)
    mount_admin(app, settings)
    mount_static(app)
    return app


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    """The last added runs first: the client's address before anything uses it; the
    limits' door next, so that a flood's repeated 429s cost neither a log line nor a
    body read (they are counted in faqbot_rate_limited_total); then request telemetry
    (413s counted too), security headers on every response, the body limit before
    anything reads the body, CORS only for the shops that embed the widget."""
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.web.allowed_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["content-type"],
        expose_headers=["Retry-After"],
        max_age=600,
    )
    app.add_middleware(BodyLimit, max_bytes=settings.server.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    metrics = ServiceMetrics()
    app.state.metrics = metrics
    app.add_middleware(RequestTelemetry, metrics=metrics)
    app.add_middleware(LimitDoor, allowed_origins=settings.web.allowed_origins)
    app.add_middleware(ClientAddress, trusted=settings.server.trusted_proxies)


def _lifespan(
    settings: Settings, given: _Given
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        parts = _Parts()
        store = given.store or _chat_store(settings, parts)
        await _check_schema(settings, parts)
        live, retriever = _retrievers(settings, given)
        app.state.index_live = live
        model = given.model or make_chat_model(settings.llm)
        app.state.warm_up = await warm_up(settings, model, retriever)
        orders = given.orders or await _orders(app, settings, parts, retriever)
        history = HistoryWriter(store)
        console = _side_parts(app, settings, given, parts)
        app.state.settings, app.state.retriever, app.state.model = settings, retriever, model
        app.state.store, app.state.orders = store, orders
        metrics: ServiceMetrics = app.state.metrics
        limiter, detector = _route_parts(app, settings, model, store, history)
        app.state.chat = ChatService(
            settings,
            retriever,
            model,
            store,
            limiter=limiter,
            cache=_answer_cache(settings),
            orders=orders,
            history=history,
            observer=metrics,
            detector=detector,
            live=app.state.live,
        )
        _watch(metrics.live, settings, limiter, retriever, parts)
        metrics.live.outcomes = _todays_outcomes(app.state.live.engine)
        metrics.live.helpdesk_outbox = parts.outbox_counts
        if live is not None:
            metrics.live.index_health = lambda: live.health
        try:
            yield
        finally:
            await history.drain(timeout_s=5.0)
            await model.close()
            await parts.aclose()
            if console is not None:
                app.state.console = None
                console.close()

    return lifespan


def _side_parts(app: FastAPI, settings: Settings, given: _Given, parts: _Parts) -> Console | None:
    """The handoff desk, the clients' limits and the console (None when it is off)."""
    app.state.handoff = _handoff_desk(app, settings, parts)
    app.state.limits = _client_limits(settings, parts, app.state.metrics)
    console = open_console(settings, given.ingest_runner) if settings.admin.enabled else None
    app.state.console = console
    return console


def _route_parts(
    app: FastAPI, settings: Settings, model: ChatModel, store: ChatStore, history: HistoryWriter
) -> tuple[GenerationLimiter, LanguageDetector | None]:
    """What routes use besides the turn itself (api/deps.py), the same parts the chat
    service is given: the generation queue, the history and its writer, the language
    choice and the chat settings in force."""
    app.state.limiter = limiter = generation_limiter(model, settings.llm)
    app.state.history = history
    app.state.conversations = Conversations(
        store, history, timeout_s=settings.db.timeout_s, history_turns=settings.chat.history_turns
    )
    detector = _detector(settings)
    app.state.language = TurnLanguage(detector)
    app.state.chat_settings = resolved_chat_settings(settings)
    return limiter, detector


def _retrievers(
    settings: Settings, given: _Given
) -> tuple[LiveRetriever | None, Callable[[], Retriever]]:
    """The live index (followed as versions are published) and the current retriever;
    a test may hand in a plain callable instead."""
    if isinstance(given.retriever, LiveRetriever) or given.retriever is None:
        live = given.retriever or _live_retriever(settings)
        return live, live.current
    return None, given.retriever


def _watch(
    live: LiveParts,
    settings: Settings,
    limiter: GenerationLimiter,
    retriever: Callable[[], Retriever],
    parts: _Parts,
) -> None:
    """What /metrics reads at scrape time."""

    def index() -> tuple[str, int]:
        r = retriever()
        return r.version, len(r)

    live.queue_depth = lambda: limiter.waiting
    live.breakers = {g.name: _state_of(g) for g in parts.guards}
    live.index = index
    live.ingest_runs = IndexStore(settings.index.path).ingest_runs


def _every(seconds: float, read: Callable[[], T]) -> Callable[[], T]:
    """read, called at most once every ``seconds``: a scrape of /metrics must not load
    the database."""
    cached: list[Any] = [-seconds, None]

    def value() -> T:
        if time.monotonic() - cached[0] > seconds:
            cached[:] = [time.monotonic(), read()]
        result: T = cached[1]
        return result

    return value


def _todays_outcomes(engine: sa.Engine) -> Callable[[], dict[str, Any] | None]:
    """Today's outcome figures for /metrics, computed at most once a minute."""

    def today() -> dict[str, Any] | None:
        start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        days = outcomes.daily(engine, start)
        return days[-1] if days else None

    return _every(60.0, today)


async def _check_schema(settings: Settings, parts: _Parts) -> None:
    """Say at start-up, in words, that the migrations were not applied, instead of a
    "no such table" with SQL text at the first request. Never blocks start-up."""
    for engine in parts.engines:
        try:
            late = await asyncio.wait_for(asyncio.to_thread(behind, engine), settings.db.timeout_s)
        except Exception as exc:  # down or slow: /readyz and the guards report that
            log.warning("could not check the database schema: %s", type(exc).__name__)
            continue
        if late:
            log.error("database %s: %s", engine.url.render_as_string(hide_password=True), NO_SCHEMA)


async def _check_order_source(orders: OrderAssistant, timeout_s: float) -> None:
    """Say at start-up what is wrong with the order source (a query the shop's database
    refuses, a column it lacks, a token Shopify refuses), as `faqbot orders check` does.
    Never blocks start-up: order questions get "temporarily unavailable" meanwhile."""
    source = orders.source
    try:
        problems = await asyncio.wait_for(asyncio.to_thread(source.problems), timeout_s)
    except Exception as exc:  # down or slow: the guard and /readyz report that
        log.warning("could not check the order source %s: %s", source.name, type(exc).__name__)
        return
    for problem in problems:
        log.error("order source %s: %s (see `faqbot orders check`)", source.name, problem)


def _detector(settings: Settings) -> LanguageDetector | None:
    """Loaded before traffic: the first customer does not wait for it."""
    detector = build_detector(settings)
    if detector is not None:
        detector.warm_up()
    return detector


def _answer_cache(settings: Settings) -> AnswerStore | None:
    """Shared through Redis when it is configured; None: the service's own, in process."""
    r = settings.redis
    if r.url is None:
        return None
    return RedisAnswerCache.from_url(r.url, r.timeout_s, r.cache_ttl_s)


def _state_of(guard: DatabaseGuard) -> Callable[[], str]:
    return lambda: guard.breaker.state


def _chat_store(settings: Settings, parts: _Parts) -> ChatStore:
    engine = engine_for(settings.db.url, settings.db, settings.db.timeout_s)
    guard = guard_for("chat", settings.db, settings.db.timeout_s)
    parts.engines.append(engine)
    parts.guards.append(guard)
    return SqlChatStore(engine, guard, public_contacts(settings.shop.contact))


def _live_retriever(settings: Settings) -> LiveRetriever:
    embedder = build_embedder(settings)
    multilingual = build_multilingual(settings)
    index_store = build_store(settings)
    backend = build_backend(settings, embedder)
    return LiveRetriever(
        index_store,
        lambda version: Retriever.open(
            index_store,
            backend,
            embedder,
            settings.retrieval,
            version=version,
            multilingual=multilingual,
            crosslingual_threshold=settings.languages.abstain_threshold,
        ),
    )


def _client_limits(settings: Settings, parts: _Parts, metrics: ServiceMetrics) -> ClientLimits:
    store = store_for(settings)
    shared: RateBuckets | None = None
    if store == "redis" and settings.redis.url is not None:
        shared = RedisBuckets.from_url(settings.redis.url, settings.limits.timeout_s)
    elif store == "database":
        engine = engine_for(settings.db.url, settings.db, settings.limits.timeout_s)
        parts.engines.append(engine)
        shared = SqlBuckets(engine)
    guard = None
    if shared is not None:
        guard = guard_for("limits", settings.db, settings.limits.timeout_s)
        parts.guards.append(guard)
    return ClientLimits(
        settings.limits,
        shared,
        guard,
        on_refused=lambda limit, by: metrics.rate_limited.labels(limit, by).inc(),
        on_store_error=metrics.limit_store_errors.inc,
    )


def _handoff_desk(app: FastAPI, settings: Settings, parts: _Parts) -> HandoffDesk:
    """The handoff requests, and the conversations a person takes over (live_handoff.py)
    on the same engine."""
    engine = engine_for(settings.db.url, settings.db, settings.db.timeout_s * 5)
    guard = guard_for("handoff", settings.db, settings.db.timeout_s * 5)
    parts.engines.append(engine)
    parts.guards.append(guard)
    outbox = _helpdesk_outbox(settings, engine, parts)
    if outbox is None:
        app.state.live = LiveHandoffs(engine, public_contacts(settings.shop.contact))
        return HandoffDesk(engine, guard, settings.handoff)
    app.state.live = LiveHandoffs(engine, public_contacts(settings.shop.contact), outbox.wake)
    return HandoffDesk(
        engine, guard, settings.handoff, helpdesk=settings.helpdesk.kind, wake_outbox=outbox.wake
    )


def _helpdesk_outbox(settings: Settings, engine: sa.Engine, parts: _Parts) -> DeliveryWorker | None:
    """With a helpdesk (Chatwoot), handoffs and the customers' messages are sent there by
    a worker, from the outbox they are recorded in."""
    h = settings.helpdesk
    if h.kind != "chatwoot" or not h.chatwoot_url or h.chatwoot_inbox is None:
        return None
    token = h.chatwoot_hmac_token.get_secret_value() if h.chatwoot_hmac_token else None
    chatwoot = ChatwootHelpdesk(
        h.chatwoot_url, h.chatwoot_inbox.get_secret_value(), hmac_token=token, timeout_s=h.timeout_s
    )
    parts.closers.append(chatwoot.close)
    outbox = HelpdeskOutbox(engine, chatwoot, h)
    worker = DeliveryWorker("helpdesk", outbox.deliver_due)
    worker.start()
    parts.workers.append(worker)
    parts.outbox_counts = _every(30.0, outbox.counts)
    return worker


async def _orders(
    app: FastAPI, settings: Settings, parts: _Parts, retriever: Callable[[], Retriever]
) -> OrderAssistant | None:
    """The order flow, its source checked; and the requests' desk and worker."""
    app.state.requests_desk = None
    if not settings.orders.enabled:
        return None
    assistant = _order_assistant(settings, parts, app, retriever)
    await _check_order_source(assistant, settings.orders.db_timeout_s * 5)
    return assistant


def _order_assistant(
    settings: Settings,
    parts: _Parts,
    app: FastAPI | None = None,
    retriever: Callable[[], Retriever] | None = None,
) -> OrderAssistant:
    """Orders get their own engine and threads even when they share the chat database's
    URL: a slow order query must not hold the threads chat history needs, and back. The
    facts come from the source the settings choose (orders.source); the verification
    state and the requests stay in faqbot's own orders database."""
    orders = settings.orders
    url = orders.db_url or settings.db.url
    engine = engine_for(url, settings.db, orders.db_timeout_s)
    guard = guard_for("orders", settings.db, orders.db_timeout_s)
    parts.engines.append(engine)
    parts.guards.append(guard)

    def source_engine(source_url: str) -> sa.Engine:
        if source_url == url:
            return engine
        made = engine_for(source_url, settings.db, orders.db_timeout_s)
        parts.engines.append(made)
        return made

    source = build_source(orders, source_engine, orders.read_url or url)
    if isinstance(source, ShopifySource):
        parts.closers.append(source.close)
    repo = OrderRepository(engine, source=source)
    requests = None
    if settings.requests.enabled and app is not None and retriever is not None:
        requests = _request_turn(settings, parts, app, repo, guard, retriever)
    return OrderAssistant(
        repo, orders, guard=guard, contact=settings.shop.contact, requests=requests
    )


def _request_turn(
    settings: Settings,
    parts: _Parts,
    app: FastAPI,
    repo: OrderRepository,
    guard: DatabaseGuard,
    retriever: Callable[[], Retriever],
) -> RequestTurn:
    """Requests about an order: recorded on the orders database, delivered by a worker."""
    desk = RequestDesk(repo.engine, settings.requests, settings.handoff)
    worker = DeliveryWorker("order requests", desk.deliver_due)
    worker.start()
    parts.workers.append(worker)
    parts.closers.append(desk.close)
    app.state.requests_desk = desk
    days = settings.orders.returns_window_days

    async def window() -> int:
        return await returns_window(retriever, days)

    return RequestTurn(
        repo, desk, settings.requests, guard.run, window, settings.shop.contact, worker.wake
    )
