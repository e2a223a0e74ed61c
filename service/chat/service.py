"""One chat turn as a short sequence of named steps: continue the session, answer an
order question from the order flow or an FAQ question from retrieval (decline, the
entry's own text, or a generated answer that is checked before it counts), then save.

Events are yielded as they happen so the HTTP layer can stream them: ``sources`` first,
then ``token`` pieces, then ``done`` with the turn's record. When tokens were streamed
but the answer is not used (the model failed midway, or a check refused its text), a
``replace`` event carries the text that stands instead. The non-streaming endpoint
collects the same events.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from service.chat.cache import AnswerCache, AnswerStore, CachedAnswer
from service.chat.conversations import Conversations
from service.chat.dialogue import Reading, choose_reading, read
from service.chat.extractive import extract
from service.chat.generation import ModelRunner
from service.chat.grounding import strip_markup
from service.chat.guard import SentenceGuard, Verdict
from service.chat.history import HistoryWriter
from service.chat.limits import GenerationLimiter, Overloaded
from service.chat.modes import choose_mode_in, resolve_answer_mode
from service.chat.order_turn import OrderWords
from service.chat.phrases import phrase
from service.chat.prompt import BuiltPrompt, Passage, PromptBuilder, Turn, strip_fences
from service.chat.store import ChatStore, Exchange, Shown
from service.chat.trace import build_trace
from service.chat.turn import (
    Action,
    Answer,
    ChatEvent,
    Mode,
    Retrieved,
    SourceRef,
    Suggestion,
    Timings,
    TurnRecord,
    replace_event,
    sources_event,
    token_event,
)
from service.config import ChatSettings, Settings
from service.llm.base import ChatModel, ModelError
from service.orders.assistant import OrderAssistant, OrderReply
from service.retrieval.language import LANGUAGES, LanguageDetector, choose_language
from service.retrieval.retriever import Hit, Retriever, SearchResult
from service.retrieval.thresholds import first_fixed

log = logging.getLogger("faqbot.chat")


# A dialogue act's reply: its phrase (phrases.py), the answer's mode, the form offered.
_DIALOGUE_REPLIES: dict[str, tuple[str, Mode, Action | None]] = {
    "greeting": ("greeting", "smalltalk", None),
    "thanks": ("thanks", "smalltalk", None),
    "handoff": ("handoff_offer", "handoff", "handoff"),
    "order_status": ("ask_order_number", "order", "order_lookup"),
}


def _cache_key(message: str, lang: str) -> str:
    """One question in one language: "PayPal?" answered in German is not the English
    answer (English keys stay the message itself)."""
    return message if lang == "en" else f"[{lang}] {message}"


def _cited_sources(passages: Sequence[Passage], cited: list[int]) -> tuple[SourceRef, ...]:
    """The passages the accepted sentences were attributed to, in citation order."""
    return tuple(
        SourceRef(p.n, p.entry_id, p.title, p.url)
        for i, p in enumerate(passages)
        if i in set(cited)
    )


def faq_answer(hit: Hit, mode: Mode, reason: str | None = None, lang: str = "en") -> Answer:
    """An entry's own text as a customer sees it: FAQ sources are data too, and markup
    planted in one (a script, our prompt fences) is removed, never passed on. A customer
    writing another language than the entry's is told, in theirs, that it is English."""
    source = SourceRef(1, hit.entry_id, hit.title, hit.url)
    text = strip_markup(hit.answer)
    note = phrase("english_only", lang) if hit.lang != lang else None
    return Answer(f"{note} {text}" if note else text, mode, (source,), reason)


@dataclass
class _TurnState:
    """What one turn has decided so far."""

    answer: Answer | None = None
    suggestions: tuple[Suggestion, ...] = ()
    retrieved: tuple[Retrieved, ...] = ()
    version: str | None = None
    cached: bool = False
    lang: str = "en"  # the customer's language this turn
    result: SearchResult | None = None  # for the trace (why this answer)
    prompt: BuiltPrompt | None = None
    action: Action | None = None  # a form the page offers with the answer


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
    ) -> None:
        self._settings = settings
        self._observer = observer
        self._detector = detector
        # "auto" is decided once, by the kind of model configured.
        self._chat = settings.chat.model_copy(
            update={"answer_mode": resolve_answer_mode(settings.chat, settings.llm)}
        )
        self._retriever = retriever
        self._runner = ModelRunner(model, settings.llm, limiter)
        self._cache: AnswerStore = (
            cache if cache is not None else AnswerCache(settings.chat.cache_size)
        )
        self._orders = orders
        self.conversations = Conversations(
            store,
            history or HistoryWriter(store),
            timeout_s=settings.db.timeout_s,
            history_turns=settings.chat.history_turns,
        )
        self.prompts = PromptBuilder(settings.chat, model.count_tokens, settings.shop)
        self._order_words = OrderWords(
            settings, self._chat.answer_mode, retriever, self._runner, self.prompts
        )

    @property
    def detector(self) -> LanguageDetector | None:
        return self._detector

    @property
    def chat_settings(self) -> ChatSettings:
        """The chat settings in force, answer_mode "auto" resolved."""
        return self._chat

    @property
    def limiter(self) -> GenerationLimiter:
        return self._runner.limiter

    @property
    def history_writer(self) -> HistoryWriter:
        return self.conversations.writer

    async def resolve_session(self, session_id: str | None) -> tuple[str, bool]:
        return await self.conversations.resolve(session_id)

    def decline(self, lang: str = "en") -> Answer:
        text = phrase("decline", lang, contact=self._settings.shop.contact) or ""
        return Answer(text, "abstained")

    def language(
        self, message: str, turns: Sequence[Turn], hint: str | None, reading: Reading | None = None
    ) -> str:
        """The language small talk and requests were written in (their words tell it),
        else the message's if the detector is sure, else the conversation's (its earlier
        messages together), else the page's hint, else English."""
        if reading is not None and reading.lang in LANGUAGES:
            return reading.lang
        if self._detector is None:
            return "en"
        detected = self._detector.detect(message)
        earlier = None
        if detected.lang is None:
            previous = " ".join(t.content for t in turns if t.role == "user")
            earlier = self._detector.detect(previous).lang if previous else None
        return choose_language(detected, earlier, hint, LANGUAGES)

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
        started, timings, state = time.perf_counter(), Timings(), _TurnState()
        session, known = await self.conversations.resolve(session_id)
        turns = await self.conversations.turns(session, known)
        reading = read(message) if entry_id is None else Reading("question")
        state.lang = self.language(message, turns, lang_hint, reading)
        reply = None
        if self._orders is not None and entry_id is None:
            t0 = time.perf_counter()
            reply = await self._orders.handle_message(session, message, client)
            if reply is not None and self._observer is not None:
                self._observer.observe_order_lookup(time.perf_counter() - t0)
        if reply is not None:
            steps = self._order_turn(message, reply, timings, state)
        elif entry_id is not None:
            steps = self._entry_turn(entry_id, state)
        elif reading.act != "question" and (reading.act != "order_status" or self._orders):
            steps = self._dialogue_turn(reading, state)
        else:
            steps = self._faq_turn(message, turns, timings, state)
        async for event in steps:
            yield event
        assert state.answer is not None  # every step decides an answer
        record = self._save(session, message, state, timings.finished(started))
        if self._observer is not None:
            self._observer.observe_turn(record, state.answer)
        yield ChatEvent("done", record.as_dict())

    async def _faq_turn(
        self, message: str, turns: list[Turn], timings: Timings, state: _TurnState
    ) -> AsyncIterator[ChatEvent]:
        t0 = time.perf_counter()
        retriever = await asyncio.to_thread(self._retriever)
        state.version = retriever.version
        # A first question is answered from the cache before any retrieval: the key holds
        # the index version, so a new version never serves an old answer.
        lang = state.lang if state.lang in retriever.languages else "en"
        key = _cache_key(message, state.lang)
        cached = self._cache.get(key, retriever.version) if not turns else None
        if cached is not None:
            state.answer, state.retrieved, state.cached = cached.answer, cached.retrieved, True
            state.suggestions = cached.suggestions
        else:
            result = await asyncio.to_thread(self._search, retriever, message, turns, lang)
            state.result = result
            timings.retrieve_ms = (time.perf_counter() - t0) * 1000
            state.retrieved = tuple(Retrieved(h.entry_id, round(h.score, 4)) for h in result.hits)
            mode = choose_mode_in(result, self._chat, self._settings.llm)
            if mode == "generated":
                step = self._generated if self._chat.grounding_guard else self._unguarded
                async for event in step(message, result, turns, timings, state):
                    yield event
                self._remember(message, turns, state)
                return
            top = result.top
            if mode == "abstained" or top is None:
                state.answer = self.decline(state.lang)
                state.suggestions = self._suggestions(result)
            elif mode == "extractive":
                text = await asyncio.to_thread(
                    extract, message, top.answer, retriever.embed_queries
                )
                state.answer = replace(faq_answer(top, "extractive"), text=strip_markup(text))
                state.suggestions = self._close_calls(result)
            else:
                state.answer = faq_answer(top, "canonical", lang=state.lang)
                if result.margin < result.ambiguous_margin:
                    # close call between entries: the next ones are offered too
                    state.suggestions = tuple(
                        Suggestion(h.entry_id, h.title) for h in result.hits[1:3]
                    )
            self._remember(message, turns, state)
        yield sources_event(state.answer.sources)
        yield token_event(state.answer.text)

    async def _dialogue_turn(self, reading: Reading, state: _TurnState) -> AsyncIterator[ChatEvent]:
        """Small talk, a request for a person, or an order question without its number:
        a short fixed reply, and the form the page should offer with it."""
        key, mode, state.action = _DIALOGUE_REPLIES[reading.act]
        text = phrase(key, state.lang, contact=self._settings.shop.contact) or ""
        state.answer = Answer(text, mode)
        yield sources_event(())
        yield token_event(text)

    def _close_calls(self, result: SearchResult) -> tuple[Suggestion, ...]:
        """An answer that is not certain and barely ahead of the next entry ("Are sale
        items returnable?": the shop-purchases entry by a lead of 0.07) also offers the
        next entries: the lead under the index's verbatim rule is a close call."""
        if result.margin >= first_fixed(self._chat.canonical_margin, result.canonical_margin):
            return ()
        return tuple(Suggestion(h.entry_id, h.title) for h in result.hits[1:3])

    def _suggestions(self, result: SearchResult) -> tuple[Suggestion, ...]:
        """Plausible entries for a declined question: offered when retrieval came close
        (confidence at least chat.suggestion_floor, chosen in docs/retrieval.md)."""
        if result.confidence < self._chat.suggestion_floor:
            return ()
        return tuple(Suggestion(h.entry_id, h.title) for h in result.hits[:3])

    async def _entry_turn(self, entry_id: str, state: _TurnState) -> AsyncIterator[ChatEvent]:
        retriever = await asyncio.to_thread(self._retriever)
        state.version = retriever.version
        info = retriever.manifest.entries.get(entry_id)
        if info is None:
            state.answer = self.decline()
        else:
            source = SourceRef(1, entry_id, info.title, info.url)
            state.answer = Answer(strip_markup(info.answer), "canonical", (source,))
            state.retrieved = (Retrieved(entry_id, 1.0),)
        yield sources_event(state.answer.sources)
        yield token_event(state.answer.text)

    async def _generated(
        self,
        message: str,
        result: SearchResult,
        turns: list[Turn],
        timings: Timings,
        state: _TurnState,
    ) -> AsyncIterator[ChatEvent]:
        """The model words the answer from the passages, checked sentence by sentence
        (guard.py); only checked sentences are shown. A failure or a refused sentence
        gives the top entry's own text instead (mode "fallback", with the reason)."""
        assert result.top is not None
        shown = False
        reason: str | None = None
        try:
            # Inside the try: counting prompt tokens needs the model, which may be gone.
            prompt = self.prompts.build(message, result.hits, turns)
            state.prompt = prompt
            guard = SentenceGuard(
                [p.text for p in prompt.passages],
                self.prompts.system_prefix,
                self._chat.max_answer_sentences,
                trusted=[self._settings.shop.contact],  # the rules tell the model to offer it
            )
            async for verdict in self._guarded(prompt, guard, timings):
                first = len(guard.accepted) - len(verdict.sentences)
                for i in range(first, len(guard.accepted)):
                    if not shown:
                        yield sources_event(_cited_sources(prompt.passages, guard.cited))
                    yield token_event(("" if not shown else " ") + guard.shown(i))
                    shown = True
                reason = verdict.stop
        except Overloaded:
            raise
        except (ModelError, TimeoutError) as exc:
            reason = str(exc) or type(exc).__name__
        except Exception as exc:  # an adapter bug must not cost the customer an answer
            log.warning("model adapter failed unexpectedly", exc_info=True)
            reason = type(exc).__name__
        if reason is None and guard.accepted:
            sources = _cited_sources(prompt.passages, guard.cited)
            state.answer = Answer(guard.answer(), "generated", sources)
            return
        log.warning("generated answer not used (%s); canonical fallback", reason or "empty")
        state.answer = faq_answer(result.top, "fallback", reason or "empty answer")
        if shown:  # the customer saw sentences that are not the answer: replace them
            yield replace_event(state.answer)
        else:
            yield sources_event(state.answer.sources)
            yield token_event(state.answer.text)

    async def _unguarded(
        self,
        message: str,
        result: SearchResult,
        turns: list[Turn],
        timings: Timings,
        state: _TurnState,
    ) -> AsyncIterator[ChatEvent]:
        """The model's text as it comes, scaffolding stripped, nothing checked: only for
        measuring the guard's effect (chat.grounding_guard off)."""
        assert result.top is not None
        prompt = self.prompts.build(message, result.hits, turns)
        state.prompt = prompt
        sources = tuple(SourceRef(p.n, p.entry_id, p.title, p.url) for p in prompt.passages)
        yield sources_event(sources)
        pieces = [piece async for piece in self._runner.stream(prompt, timings)]
        state.answer = Answer(strip_fences("".join(pieces)).strip(), "generated", sources)
        yield token_event(state.answer.text)

    async def _guarded(
        self, prompt: BuiltPrompt, guard: SentenceGuard, timings: Timings
    ) -> AsyncIterator[Verdict]:
        """The guard's verdicts as the model writes; stops the model at the first
        refused sentence, or once the answer has its sentences."""
        async for piece in self._runner.stream(prompt, timings):
            verdict = guard.feed(piece)
            yield verdict
            if verdict.stop is not None or guard.full:
                return
        yield guard.finish()

    async def _order_turn(
        self, message: str, reply: OrderReply, timings: Timings, state: _TurnState
    ) -> AsyncIterator[ChatEvent]:
        yield sources_event(())
        text = await self._order_words.text(message, reply, state.lang, timings)
        state.answer = Answer(text, "order")
        yield token_event(text)

    def _search(
        self, retriever: Retriever, message: str, turns: list[Turn], lang: str = "en"
    ) -> SearchResult:
        """The message alone, or read with the customer's previous question when that
        retrieves better (dialogue.choose_reading): a follow-up ("and to Switzerland?")
        rarely stands alone, a new question ("voucher") must not borrow the last topic."""
        result = retriever.search(message, lang=lang)
        previous = next((t.content for t in reversed(turns) if t.role == "user"), None)
        if previous is None or result.certain(
            self._chat.canonical_threshold, self._chat.canonical_margin
        ):
            return result
        combined = retriever.search(f"{previous} {message}", lang=lang)
        answered = next((t.entry_id for t in reversed(turns) if t.role == "assistant"), None)

        def onward(without: frozenset[str]) -> SearchResult:
            return retriever.search_without(combined, without, lang)

        return choose_reading(result, combined, answered, onward)[0]

    def _remember(self, message: str, turns: list[Turn], state: _TurnState) -> None:
        # Only first questions (no history changes their meaning) and only answers that
        # did not depend on a passing failure.
        answer = state.answer
        if not turns and answer is not None and answer.mode != "fallback" and state.version:
            key = _cache_key(message, state.lang)
            record = CachedAnswer(answer, state.retrieved, state.suggestions)
            self._cache.put(key, state.version, record)

    def _save(self, session: str, message: str, state: _TurnState, timings: Timings) -> TurnRecord:
        answer = state.answer
        assert answer is not None
        exchange = Exchange(
            session,
            message,
            answer.text,
            answer.mode,
            state.retrieved,
            state.version,
            trace=build_trace(state.result, state.prompt, state.lang, timings),
            shown=Shown(answer.sources, state.suggestions, state.action),
        )
        self.conversations.save(exchange)
        return TurnRecord(
            answer=answer.text,
            sources=list(answer.sources),
            mode=answer.mode,
            session_id=session,
            message_id=exchange.answer_id,
            cached=state.cached,
            timings=timings,
            suggestions=list(state.suggestions),
            lang=state.lang,
            action=state.action,
        )
