"""One chat turn as a short pipeline of named steps, each returning a frozen value:
continue the session and read the message (its act and language), decide the answer
(the order flow, a "did you mean" entry, a short reply, or the FAQ), word a Draft with
the model when the FAQ step asks for it, then remember and save the outcome.

respond() alone turns them into events, so the HTTP layer can stream: ``sources``
first, then ``token`` pieces, then ``done`` with the turn's record. When checked
sentences were shown but the answer is not used (the model failed midway, or a check
refused a later sentence), a ``replace`` event carries the text that stands instead.
The non-streaming endpoint collects the same events.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from service.chat.cache import AnswerCache, AnswerStore, CachedAnswer
from service.chat.conversations import Conversations
from service.chat.dialogue import Reading, read
from service.chat.faq_turn import FaqTurn
from service.chat.generation import ModelRunner
from service.chat.history import HistoryWriter
from service.chat.limits import GenerationLimiter
from service.chat.model_answer import ModelAnswer
from service.chat.modes import resolved_chat_settings
from service.chat.order_turn import OrderTurn, OrderWords
from service.chat.prompt import PromptBuilder, Turn
from service.chat.replies import dialogue_reply
from service.chat.store import ChatStore, Exchange, Shown
from service.chat.trace import build_trace
from service.chat.turn import (
    Answer,
    ChatEvent,
    Draft,
    Partial,
    SourceRef,
    Timings,
    TurnOutcome,
    TurnRecord,
    replace_event,
    sources_event,
    token_event,
)
from service.chat.turn_language import TurnLanguage
from service.config import Settings
from service.live_handoff import LiveHandoffs
from service.llm.base import ChatModel
from service.orders.assistant import OrderAssistant
from service.retrieval.language import LanguageDetector
from service.retrieval.retriever import Retriever
from service.texts import phrase

log = logging.getLogger("faqbot.chat")


class TurnObserver(Protocol):
    """Told about every finished turn and order lookup (the service's metrics)."""

    def observe_turn(self, record: TurnRecord, answer: Answer) -> None: ...

    def observe_order_lookup(self, seconds: float) -> None: ...


class ChatService:
    def __init__(
        self,
        settings: Settings,
        retriever: Callable[[], Retriever],
        model: ChatModel,
        store: ChatStore,
        limiter: GenerationLimiter | None = None,
        cache: AnswerStore | None = None,
        orders: OrderAssistant | None = None,
        history: HistoryWriter | None = None,
        observer: TurnObserver | None = None,
        detector: LanguageDetector | None = None,
        live: LiveHandoffs | None = None,
    ) -> None:
        self._settings = settings
        self._live = live  # a person may hold a conversation (the bot is silent then)
        self._observer = observer
        chat = resolved_chat_settings(settings)
        runner = ModelRunner(model, settings.llm, limiter)
        self._cache: AnswerStore = cache if cache is not None else AnswerCache(chat.cache_size)
        self._conversations = Conversations(
            store,
            history or HistoryWriter(store),
            timeout_s=settings.db.timeout_s,
            history_turns=chat.history_turns,
        )
        self._language = TurnLanguage(detector)
        prompts = PromptBuilder(chat, model.count_tokens, settings.shop)
        self._faq = FaqTurn(settings, chat, retriever, self._cache)
        self._model_answer = ModelAnswer(runner, prompts, chat, settings.shop)
        self._orders: OrderTurn | None = None
        if orders is not None:
            words = OrderWords(settings, chat.answer_mode, retriever, runner, prompts)
            observe = observer.observe_order_lookup if observer is not None else None
            self._orders = OrderTurn(orders, words, observe)

    async def answer(
        self,
        message: str,
        session_id: str | None,
        client: str = "unknown",
        entry_id: str | None = None,
        lang_hint: str | None = None,
    ) -> dict[str, Any]:
        """The turn's record (the "done" event) for callers that do not stream."""
        record: dict[str, Any] | None = None
        async for event in self.respond(message, session_id, client, entry_id, lang_hint):
            if event.kind == "done":
                record = event.data
        assert record is not None  # respond() always ends with "done"
        return record

    async def respond(
        self,
        message: str,
        session_id: str | None,
        client: str = "unknown",
        entry_id: str | None = None,
        lang_hint: str | None = None,
    ) -> AsyncIterator[ChatEvent]:
        """One turn. With entry_id (a "did you mean" button), that entry is answered
        with its own text, whatever the message says. lang_hint: the page's language."""
        started, timings = time.perf_counter(), Timings()
        session, known = await self._conversations.resolve(session_id)
        turns = await self._conversations.turns(session, known)
        reading = read(message) if entry_id is None else Reading("question")
        lang = self._language.of(message, turns, lang_hint, reading)
        decided = await self._decide(
            session, message, client, entry_id, reading, turns, lang, timings
        )
        shown, shown_sources = "", tuple[SourceRef, ...]()
        if isinstance(decided, Draft):
            outcome: TurnOutcome | None = None
            async for piece in self._model_answer.write(decided, timings):
                if isinstance(piece, Partial):
                    if not shown:
                        yield sources_event(piece.sources)
                    yield token_event(piece.text if not shown else f" {piece.text}")
                    shown = f"{shown} {piece.text}" if shown else piece.text
                    shown_sources = piece.sources
                else:
                    outcome = piece
            assert outcome is not None  # the writer always ends with its outcome
        else:
            outcome = decided
        if not shown:
            yield sources_event(outcome.answer.sources)
            yield token_event(outcome.answer.text)
        elif (shown, shown_sources) != (outcome.answer.text, outcome.answer.sources):
            # the sentences shown are not the answer: the answer replaces them
            yield replace_event(outcome.answer)
        self._remember(outcome)
        record = self._save(session, message, outcome, timings.finished(started))
        if self._observer is not None:
            self._observer.observe_turn(record, outcome.answer)
        yield ChatEvent("done", record.as_dict())

    async def _decide(
        self,
        session: str,
        message: str,
        client: str,
        entry_id: str | None,
        reading: Reading,
        turns: list[Turn],
        lang: str,
        timings: Timings,
    ) -> TurnOutcome | Draft:
        """Who answers: a person who holds the conversation (the bot is silent), the
        order flow when it takes the message, a "did you mean" button's entry, a short
        reply to small talk and requests, else the FAQ."""
        held = await self._held(session, message, lang)
        if held is not None:
            return held
        if entry_id is not None:
            return await self._faq.entry(entry_id, lang)
        if self._orders is not None:
            outcome = await self._orders.run(session, message, client, lang, timings)
            if outcome is not None:
                return outcome
        if reading.act != "question" and (reading.act != "order_status" or self._orders):
            handoff = self._settings.handoff
            live = handoff.reply_minutes if handoff.people_answer(datetime.now(UTC)) else None
            return dialogue_reply(reading, lang, self._settings.shop.contact, live)
        return await self._faq.decide(message, turns, lang, timings)

    async def _held(self, session: str, message: str, lang: str) -> TurnOutcome | None:
        """The message goes to the person holding the conversation, if one does. When the
        database cannot say, the bot answers: a slow store must not silence it."""
        if self._live is None:
            return None
        timeout = self._settings.db.timeout_s
        try:
            agent = await asyncio.wait_for(asyncio.to_thread(self._live.holder, session), timeout)
            if agent is None:
                return None
            await asyncio.wait_for(
                asyncio.to_thread(self._live.from_customer, session, message), timeout
            )
        except Exception as exc:  # down, slow, or released meanwhile
            log.warning("live handoff unknown (%s): the bot answers", type(exc).__name__)
            return None
        # A helpdesk holds it and no agent has written yet: "our team", in their language
        note = (
            phrase("handoff_with_person", lang, agent=agent)
            if agent
            else phrase("handoff_with_team", lang)
        ) or ""
        return TurnOutcome(Answer(note, "waiting"), lang)

    def _remember(self, outcome: TurnOutcome) -> None:
        # Only first questions (no history changes their meaning) and only answers that
        # did not depend on a passing failure.
        if outcome.cache_key and outcome.version and outcome.answer.mode != "fallback":
            record = CachedAnswer(outcome.answer, outcome.retrieved, outcome.suggestions)
            self._cache.put(outcome.cache_key, outcome.version, record)

    def _save(
        self, session: str, message: str, outcome: TurnOutcome, timings: Timings
    ) -> TurnRecord:
        answer = outcome.answer
        exchange = Exchange(
            session,
            message,
            answer.text,
            answer.mode,
            outcome.retrieved,
            outcome.version,
            trace=build_trace(outcome.result, outcome.prompt, outcome.lang, timings),
            shown=Shown(answer.sources, outcome.suggestions, outcome.action),
        )
        self._conversations.save(exchange)
        return TurnRecord(
            answer=answer.text,
            sources=list(answer.sources),
            mode=answer.mode,
            session_id=session,
            message_id=exchange.answer_id,
            cached=outcome.cached,
            timings=timings,
            suggestions=list(outcome.suggestions),
            lang=outcome.lang,
            action=outcome.action,
        )
