"""An FAQ question's turn up to the model: a first question's cached answer, else
retrieval (the message alone or read with the previous question), then the answer's
kind (modes.py): a decline with plausible entries, the entry's own text, its relevant
sentences, or a Draft for the model to word. A "did you mean" button's entry is
answered with its own text."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from service.chat.cache import AnswerStore
from service.chat.dialogue import choose_reading
from service.chat.extractive import extract
from service.chat.grounding import strip_markup
from service.chat.modes import choose_mode_in
from service.chat.prompt import Turn
from service.chat.replies import decline, faq_answer
from service.chat.turn import (
    Answer,
    Draft,
    Retrieved,
    SourceRef,
    Suggestion,
    Timings,
    TurnOutcome,
)
from service.config import ChatSettings, Settings
from service.retrieval.retriever import Retriever, SearchResult
from service.retrieval.thresholds import first_fixed


def cache_key(message: str, lang: str) -> str:
    """One question in one language: "PayPal?" answered in German is not the English
    answer (English keys stay the message itself)."""
    return message if lang == "en" else f"[{lang}] {message}"


class FaqTurn:
    def __init__(
        self,
        settings: Settings,
        chat: ChatSettings,
        retriever: Callable[[], Retriever],
        cache: AnswerStore,
    ) -> None:
        self._settings = settings
        self._chat = chat  # answer_mode "auto" already resolved
        self._retriever = retriever
        self._cache = cache

    async def decide(
        self, message: str, turns: Sequence[Turn], lang: str, timings: Timings
    ) -> TurnOutcome | Draft:
        t0 = time.perf_counter()
        retriever = await asyncio.to_thread(self._retriever)
        # A first question is answered from the cache before any retrieval: the key holds
        # the index version, so a new version never serves an old answer.
        key = cache_key(message, lang) if not turns else None
        cached = self._cache.get(key, retriever.version) if key is not None else None
        if cached is not None:
            return TurnOutcome(
                cached.answer,
                lang,
                cached.suggestions,
                cached.retrieved,
                retriever.version,
                cached=True,
            )
        search_lang = lang if lang in retriever.languages else "en"
        result = await asyncio.to_thread(self._search, retriever, message, turns, search_lang)
        timings.retrieve_ms = (time.perf_counter() - t0) * 1000
        retrieved = tuple(Retrieved(h.entry_id, round(h.score, 4)) for h in result.hits)
        mode = choose_mode_in(result, self._chat, self._settings.llm)
        if mode == "generated":
            return Draft(message, result, tuple(turns), lang, retrieved, retriever.version, key)
        answer, suggestions = await self._answer(mode, message, result, retriever, lang)
        return TurnOutcome(
            answer, lang, suggestions, retrieved, retriever.version, result=result, cache_key=key
        )

    async def entry(self, entry_id: str, lang: str) -> TurnOutcome:
        """The entry's own text, whatever the message said."""
        retriever = await asyncio.to_thread(self._retriever)
        info = retriever.manifest.entries.get(entry_id)
        if info is None:
            answer = decline("en", self._settings.shop.contact)
            return TurnOutcome(answer, lang, version=retriever.version)
        source = SourceRef(1, entry_id, info.title, info.url)
        answer = Answer(strip_markup(info.answer), "canonical", (source,))
        return TurnOutcome(
            answer, lang, retrieved=(Retrieved(entry_id, 1.0),), version=retriever.version
        )

    async def _answer(
        self, mode: str, message: str, result: SearchResult, retriever: Retriever, lang: str
    ) -> tuple[Answer, tuple[Suggestion, ...]]:
        top = result.top
        if mode == "abstained" or top is None:
            return decline(lang, self._settings.shop.contact), self._suggestions(result)
        if mode == "extractive":
            text = await asyncio.to_thread(extract, message, top.answer, retriever.embed_queries)
            answer = replace(faq_answer(top, "extractive"), text=strip_markup(text))
            return answer, self._close_calls(result)
        suggestions: tuple[Suggestion, ...] = ()
        if result.margin < result.ambiguous_margin:
            # close call between entries: the next ones are offered too
            suggestions = tuple(Suggestion(h.entry_id, h.title) for h in result.hits[1:3])
        return faq_answer(top, "canonical", lang=lang), suggestions

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

    def _search(
        self, retriever: Retriever, message: str, turns: Sequence[Turn], lang: str
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
