"""One chat turn: retrieve, decide the answer mode, generate or not, cite, persist.

Events are yielded as they happen so the HTTP layer can stream them: ``sources`` first,
then ``token`` pieces, then ``done`` with the full record. When tokens were streamed
but the answer is not used (the model failed midway, or a check refused its text), a
``replace`` event carries the text that stands instead. The non-streaming endpoint
collects the same events.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from service.chat.cache import AnswerCache
from service.chat.grounding import has_markup, strip_markup, unsupported_numbers
from service.chat.history import HistoryWriter
from service.chat.limits import GenerationLimiter, Overloaded
from service.chat.prompt import (
    BuiltPrompt,
    FenceFilter,
    PromptBuilder,
    Turn,
    clean_citations,
    leaks_prompt,
    strip_fences,
)
from service.config import Settings
from service.db.chat_store import ChatStore, ChatStoreError, Exchange
from service.llm.base import ChatModel, GenerationOptions, ModelError
from service.orders.assistant import OrderAssistant, OrderReply, describe_order, facts_block
from service.retrieval.retriever import Hit, Retriever, SearchResult

log = logging.getLogger("faqbot.chat")
T = TypeVar("T")

Mode = Literal["generated", "canonical", "abstained", "fallback", "order"]
EventKind = Literal["sources", "token", "replace", "done"]


@dataclass(frozen=True)
class ChatEvent:
    kind: EventKind
    data: dict[str, Any]


def faq_text(hit: Hit) -> str:
    """An entry's own answer as a customer sees it: FAQ sources are data too, and markup
    planted in one (a script, our prompt fences) is removed, never passed on."""
    return strip_markup(hit.answer)


class ChatService:
    def __init__(
        self,
        settings: Settings,
        retriever: Callable[[], Retriever],
        model: ChatModel,
        store: ChatStore,
        limiter: GenerationLimiter | None = None,
        cache: AnswerCache | None = None,
        orders: OrderAssistant | None = None,
        history: HistoryWriter | None = None,
    ) -> None:
        self._settings = settings
        self._chat = settings.chat
        self._retriever = retriever
        self._model = model
        self._store = store
        self._history = history or HistoryWriter(store)
        # Admit no more generations than the model can run at once: the in-process model
        # runs one, and a second admitted one would only wait out its own timeout.
        model_limit = model.max_concurrency or settings.llm.max_concurrent
        self._limiter = limiter or GenerationLimiter(
            min(settings.llm.max_concurrent, model_limit), settings.llm.max_queue
        )
        self._cache = cache if cache is not None else AnswerCache(settings.chat.cache_size)
        self._orders = orders
        self.prompts = PromptBuilder(settings.chat, model.count_tokens)
        self._options = GenerationOptions(settings.llm.max_tokens, settings.llm.temperature)

    @property
    def limiter(self) -> GenerationLimiter:
        return self._limiter

    @property
    def history_writer(self) -> HistoryWriter:
        return self._history

    async def resolve_session(self, session_id: str | None) -> tuple[str, bool]:
        """The session to continue and whether it is known. An id the server never
        minted (or one that expired) starts a new session with a new id: ids are bearer
        tokens, and one chosen by a client could be shared or guessed."""
        if session_id:
            if self._history.knows(session_id):
                return session_id, True
            if await self._stored(self._store.session_exists(session_id)):
                return session_id, True
        return self._history.mint_session(), False

    async def _turns(self, session: str, known: bool) -> list[Turn]:
        if not known:
            return []
        limit = 2 * self._chat.history_turns
        stored = await self._stored(self._store.history(session, limit)) or []
        pending = self._history.pending_turns(session)
        return [Turn(m.role, m.content) for m in [*stored, *pending][-limit:]] if limit else []

    def decline_text(self) -> str:
        return (
            "I'm sorry, I couldn't find an answer to that in our help center. "
            f"Please contact {self._chat.contact}, and a person will help you."
        )

    async def respond(
        self, message: str, session_id: str | None, client: str = "unknown"
    ) -> AsyncIterator[ChatEvent]:
        started = time.perf_counter()
        timings: dict[str, float | None] = {
            "retrieve_ms": None,
            "llm_queue_ms": None,
            "llm_first_token_ms": None,
            "llm_total_ms": None,
            "total_ms": None,
        }
        # The database keeps history; when it is down or slow, FAQ answers go on without
        # history rather than failing, and the exchange is written after the answer.
        session, known = await self.resolve_session(session_id)
        turns = await self._turns(session, known)

        if self._orders is not None:
            reply = await self._orders.handle_message(session, message, client)
            if reply is not None:
                async for event in self._order_answer(session, message, reply, timings, started):
                    yield event
                return

        t0 = time.perf_counter()
        retriever = await asyncio.to_thread(self._retriever)
        # A first question is answered from the cache before any retrieval: the key holds
        # the index version, so a new version never serves an old answer.
        cached = self._cache.get(message, retriever.version) if not turns else None
        if cached is not None:
            yield ChatEvent("sources", {"sources": cached["sources"]})
            yield ChatEvent("token", {"text": cached["answer"]})
            record = await self._finish(
                session,
                message,
                cached["answer"],
                cached["mode"],
                cached["sources"],
                cached["retrieved"],
                retriever.version,
                timings,
                started,
                cached=True,
            )
            yield ChatEvent("done", record)
            return
        result = await asyncio.to_thread(self._search, retriever, message, turns)
        timings["retrieve_ms"] = (time.perf_counter() - t0) * 1000
        retrieved = [{"id": h.entry_id, "score": round(h.score, 4)} for h in result.hits]

        mode: Mode
        sources: list[dict[str, Any]]
        top = result.top
        if result.abstain or top is None:
            mode, answer, sources = "abstained", self.decline_text(), []
            yield ChatEvent("sources", {"sources": sources})
            yield ChatEvent("token", {"text": answer})
        elif self._use_canonical(result):
            mode, answer, sources = "canonical", faq_text(top), [self._source(1, top)]
            yield ChatEvent("sources", {"sources": sources})
            yield ChatEvent("token", {"text": answer})
        else:
            pieces: list[str] = []
            failed: str | None = None
            sources = []
            fences = FenceFilter()
            try:
                # Inside the try: counting prompt tokens needs the model, which may be gone.
                prompt = self.prompts.build(message, result.hits, turns)
                sources = [
                    {"n": p.n, "id": p.entry_id, "title": p.title, "url": p.url}
                    for p in prompt.passages
                ]
                yield ChatEvent("sources", {"sources": sources})
                async for piece in self._generate(prompt, timings):
                    pieces.append(piece)
                    visible = fences.feed(piece)
                    if visible:
                        yield ChatEvent("token", {"text": visible})
                tail = fences.flush()
                if tail:
                    yield ChatEvent("token", {"text": tail})
            except (ModelError, TimeoutError) as exc:
                failed = str(exc) or type(exc).__name__
            except Overloaded:
                raise
            except Exception as exc:  # an adapter bug must not cost the customer an answer
                log.warning("model adapter failed unexpectedly", exc_info=True)
                failed = type(exc).__name__
            if failed is None:
                raw = "".join(pieces)
                answer = clean_citations(strip_fences(raw), len(prompt.passages))
                failed = self._unusable(raw, answer, prompt, message)
                mode = "generated"
            if failed is not None:
                log.warning("generated answer not used (%s); canonical fallback", failed)
                mode, answer, sources = "fallback", faq_text(top), [self._source(1, top)]
                if pieces:
                    # The customer saw tokens that are not the answer: replace them.
                    yield ChatEvent("replace", {"text": answer, "sources": sources})
                else:
                    yield ChatEvent("sources", {"sources": sources})
                    yield ChatEvent("token", {"text": answer})
        record = await self._finish(
            session,
            message,
            answer,
            mode,
            sources,
            retrieved,
            retriever.version,
            timings,
            started,
            cached=False,
        )
        if not turns and mode in ("generated", "canonical", "abstained"):
            self._cache.put(
                message,
                retriever.version,
                {"answer": answer, "mode": mode, "sources": sources, "retrieved": retrieved},
            )
        yield ChatEvent("done", record)

    async def _order_answer(
        self,
        session: str,
        message: str,
        reply: OrderReply,
        timings: dict[str, float | None],
        started: float,
    ) -> AsyncIterator[ChatEvent]:
        yield ChatEvent("sources", {"sources": []})
        answer = reply.text
        if reply.facts is not None:
            today = datetime.now(UTC)
            window = self._settings.orders.returns_window_days
            answer = describe_order(reply.facts, window, today)
            if self._chat.answer_mode == "generate":
                pieces: list[str] = []
                try:
                    prompt = self.prompts.build_order(
                        message, facts_block(reply.facts, window, today)
                    )
                    async for piece in self._generate(prompt, timings):
                        pieces.append(piece)
                    generated = strip_fences("".join(pieces)).strip()
                    if generated and not leaks_prompt(generated, self.prompts.system_prefix):
                        answer = generated
                except (ModelError, TimeoutError) as exc:
                    # The templated answer from the same facts stands in.
                    log.warning("model failed for an order answer: %s", exc)
        yield ChatEvent("token", {"text": answer})
        record = await self._finish(
            session, message, answer, "order", [], [], None, timings, started, cached=False
        )
        yield ChatEvent("done", record)

    async def _stored(self, call: Awaitable[T]) -> T | None:
        try:
            return await asyncio.wait_for(call, timeout=self._settings.db.timeout_s)
        except (ChatStoreError, TimeoutError) as exc:
            log.warning("chat store unavailable (%s); answering without it", exc)
            return None

    def _search(self, retriever: Retriever, message: str, turns: list[Turn]) -> SearchResult:
        result = retriever.search(message)
        # A follow-up ("and for exchanges?") rarely stands alone: if it does not retrieve
        # well, try again with the customer's previous question in front of it.
        previous = next((t.content for t in reversed(turns) if t.role == "user"), None)
        if previous and (result.abstain or result.confidence < self._chat.canonical_threshold):
            combined = retriever.search(f"{previous} {message}")
            if combined.confidence > result.confidence:
                return combined
        return result

    def _unusable(self, raw: str, answer: str, prompt: BuiltPrompt, message: str) -> str | None:
        """Why a generated answer must not be shown, or None."""
        if not answer:
            return "empty answer"
        if leaks_prompt(raw, self.prompts.system_prefix):
            return "the model echoed its rules"
        if has_markup(answer):
            return "markup in the answer"
        invented = unsupported_numbers(answer, message, *(p.text for p in prompt.passages))
        if invented:
            return f"numbers not in the passages: {', '.join(invented[:3])}"
        return None

    def _use_canonical(self, result: SearchResult) -> bool:
        mode = self._chat.answer_mode
        if mode == "canonical_first":
            return True
        return mode == "hybrid" and result.confidence >= self._chat.canonical_threshold

    @staticmethod
    def _source(n: int, hit: Hit) -> dict[str, Any]:
        return {"n": n, "id": hit.entry_id, "title": hit.title, "url": hit.url}

    async def _generate(
        self, prompt: BuiltPrompt, timings: dict[str, float | None]
    ) -> AsyncIterator[str]:
        llm = self._settings.llm
        # Both deadlines start when the request asks for the model, so time spent queued
        # for a slot counts against them.
        t0 = time.perf_counter()
        first_by = t0 + llm.first_token_timeout_s
        deadline = t0 + llm.total_timeout_s
        async with self._limiter.slot(start_by=min(first_by, deadline)):
            timings["llm_queue_ms"] = (time.perf_counter() - t0) * 1000
            stream = self._model.stream(prompt.messages, self._options)
            try:
                first = True
                while True:
                    now = time.perf_counter()
                    timeout = min(first_by, deadline) - now if first else deadline - now
                    if timeout <= 0:
                        raise TimeoutError(f"no answer within {llm.total_timeout_s:.0f} s")
                    try:
                        piece = await asyncio.wait_for(anext(stream), timeout)
                    except StopAsyncIteration:
                        break
                    except TimeoutError:
                        what = "first token" if first else "answer"
                        raise TimeoutError(f"model timed out waiting for the {what}") from None
                    if first:
                        timings["llm_first_token_ms"] = (time.perf_counter() - t0) * 1000
                        first = False
                    yield piece
            finally:
                timings["llm_total_ms"] = (time.perf_counter() - t0) * 1000
                await stream.aclose()  # type: ignore[attr-defined]

    async def _finish(
        self,
        session: str,
        message: str,
        answer: str,
        mode: str,
        sources: list[dict[str, Any]],
        retrieved: list[dict[str, Any]],
        version: str | None,
        timings: dict[str, float | None],
        started: float,
        *,
        cached: bool,
    ) -> dict[str, Any]:
        exchange = Exchange(session, message, answer, mode, retrieved, version)
        # Written after the answer is on its way: a slow or locked chat database must not
        # hold the customer's answer.
        self._history.submit(exchange)
        message_id = exchange.answer_id
        timings["total_ms"] = (time.perf_counter() - started) * 1000
        return {
            "answer": answer,
            "sources": sources,
            "mode": mode,
            "session_id": session,
            "message_id": message_id,
            "cached": cached,
            "timings": {k: (round(v, 2) if v is not None else None) for k, v in timings.items()},
        }
