"""The words of an order turn: the order flow's fixed replies in the customer's
language, or the verified order's facts, described by our templates or, in generate
mode and a language the model writes well, worded by the model (the template stands in
whenever the model fails or its answer is refused)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from service.chat.generation import ModelRunner
from service.chat.grounding import refusal_reason
from service.chat.prompt import PromptBuilder, strip_fences
from service.chat.turn import Action, Answer, Timings, TurnOutcome
from service.config import Settings
from service.llm.base import ModelError
from service.orders.assistant import OrderAssistant, OrderReply, facts_block
from service.orders.returns_window import returns_window
from service.orders.wording import describe_order, describe_topic
from service.retrieval.retriever import Retriever
from service.texts import phrase

log = logging.getLogger("faqbot.chat")


class OrderTurn:
    """A message the order flow takes (a number, a verification, an order question in a
    verified session), answered in the customer's language."""

    def __init__(
        self,
        assistant: OrderAssistant,
        words: OrderWords,
        observe: Callable[[float], None] | None = None,
    ) -> None:
        self._assistant = assistant
        self._words = words
        self._observe = observe  # seconds per lookup, for the service's metrics

    async def run(
        self, session: str, message: str, client: str, lang: str, timings: Timings
    ) -> TurnOutcome | None:
        """The turn's outcome, or None when the message is not the order flow's."""
        t0 = time.perf_counter()
        reply = await self._assistant.handle_message(session, message, client)
        if reply is None:
            return None
        if self._observe is not None:
            self._observe(time.perf_counter() - t0)
        return await self._words.outcome(message, reply, lang, timings)


class OrderWords:
    def __init__(
        self,
        settings: Settings,
        answer_mode: str,
        retriever: Callable[[], Retriever],
        runner: ModelRunner,
        prompts: PromptBuilder,
    ) -> None:
        self._settings = settings
        self._answer_mode = answer_mode  # "auto" already resolved
        self._retriever = retriever
        self._runner = runner
        self._prompts = prompts

    async def outcome(
        self, message: str, reply: OrderReply, lang: str, timings: Timings
    ) -> TurnOutcome:
        text = await self.text(message, reply, lang, timings)
        action: Action | None = "confirm_request" if reply.confirm else None
        return TurnOutcome(Answer(text, "order"), lang, action=action)

    async def text(self, message: str, reply: OrderReply, lang: str, timings: Timings) -> str:
        """What the customer reads for this order reply."""
        if reply.facts is None:
            return self._fixed_reply(reply, lang)
        today = datetime.now(UTC)
        window = await returns_window(self._retriever, self._settings.orders.returns_window_days)
        text = (
            describe_topic(reply.facts, reply.topic, window, today, lang)
            if reply.topic
            else describe_order(reply.facts, window, today, lang)
        )
        if self._answer_mode == "generate" and lang in self._settings.llm.languages:
            facts = facts_block(reply.facts, window, today)
            text = await self._worded(message, facts, timings) or text
        return text

    def _fixed_reply(self, reply: OrderReply, lang: str) -> str:
        """The order flow's fixed replies in the customer's language."""
        if reply.key is not None:  # a request's reply, with its values
            return phrase(reply.key, lang, **reply.values) or reply.text
        key: str = reply.outcome
        if key == "ask_contact" and not self._settings.orders.allow_postal_code:
            key = "ask_email"
        return phrase(key, lang, contact=self._settings.shop.contact) or reply.text

    async def _worded(self, message: str, facts: str, timings: Timings) -> str | None:
        """The model's wording of the verified facts, or None (the template stands in)."""
        pieces: list[str] = []
        try:
            prompt = self._prompts.build_order(message, facts)
            async for piece in self._runner.stream(prompt, timings):
                pieces.append(piece)
        except (ModelError, TimeoutError) as exc:
            log.warning("model failed for an order answer: %s", exc)
            return None
        raw = "".join(pieces)
        text = strip_fences(raw).strip()
        refused = refusal_reason(raw, text, self._prompts.system_prefix, message, facts)
        return None if refused else text
