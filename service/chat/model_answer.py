"""A Draft worded by the model from its passages, checked sentence by sentence
(guard.py): only checked sentences are shown, each as soon as it is checked. A failure
or a refused sentence gives the top entry's own text instead (mode "fallback", with the
reason)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence

from service.chat.generation import ModelRunner
from service.chat.guard import SentenceGuard, Verdict
from service.chat.limits import Overloaded
from service.chat.prompt import BuiltPrompt, Passage, PromptBuilder, strip_fences
from service.chat.replies import faq_answer
from service.chat.turn import Answer, Draft, Partial, SourceRef, Timings, TurnOutcome
from service.config import ChatSettings, ShopSettings
from service.llm.base import ModelError

log = logging.getLogger("faqbot.chat")


def _cited_sources(passages: Sequence[Passage], cited: list[int]) -> tuple[SourceRef, ...]:
    """The passages the accepted sentences were attributed to, in citation order."""
    return tuple(
        SourceRef(p.n, p.entry_id, p.title, p.url)
        for i, p in enumerate(passages)
        if i in set(cited)
    )


def _outcome(draft: Draft, answer: Answer, prompt: BuiltPrompt | None) -> TurnOutcome:
    return TurnOutcome(
        answer,
        draft.lang,
        retrieved=draft.retrieved,
        version=draft.version,
        result=draft.result,
        prompt=prompt,
        cache_key=draft.cache_key,
    )


class ModelAnswer:
    def __init__(
        self, runner: ModelRunner, prompts: PromptBuilder, chat: ChatSettings, shop: ShopSettings
    ) -> None:
        self._runner = runner
        self._prompts = prompts
        self._chat = chat
        self._shop = shop

    def write(self, draft: Draft, timings: Timings) -> AsyncIterator[Partial | TurnOutcome]:
        """Partial sentences as they are checked, then the outcome (always last)."""
        if self._chat.grounding_guard:
            return self._guarded(draft, timings)
        return self._unguarded(draft, timings)

    async def _guarded(
        self, draft: Draft, timings: Timings
    ) -> AsyncIterator[Partial | TurnOutcome]:
        top = draft.result.top
        assert top is not None
        reason: str | None = None
        prompt: BuiltPrompt | None = None
        try:
            # Inside the try: counting prompt tokens needs the model, which may be gone.
            prompt = self._prompts.build(draft.message, draft.result.hits, draft.turns)
            guard = SentenceGuard(
                [p.text for p in prompt.passages],
                self._prompts.system_prefix,
                self._chat.max_answer_sentences,
                trusted=[self._shop.contact],  # the rules tell the model to offer it
            )
            async for verdict in self._verdicts(prompt, guard, timings):
                first = len(guard.accepted) - len(verdict.sentences)
                for i in range(first, len(guard.accepted)):
                    yield Partial(guard.shown(i), _cited_sources(prompt.passages, guard.cited))
                reason = verdict.stop
        except Overloaded:
            raise
        except (ModelError, TimeoutError) as exc:
            reason = str(exc) or type(exc).__name__
        except Exception as exc:  # an adapter bug must not cost the customer an answer
            log.warning("model adapter failed unexpectedly", exc_info=True)
            reason = type(exc).__name__
        if reason is None and prompt is not None and guard.accepted:
            sources = _cited_sources(prompt.passages, guard.cited)
            yield _outcome(draft, Answer(guard.answer(), "generated", sources), prompt)
            return
        log.warning("generated answer not used (%s); canonical fallback", reason or "empty")
        yield _outcome(draft, faq_answer(top, "fallback", reason or "empty answer"), prompt)

    async def _unguarded(
        self, draft: Draft, timings: Timings
    ) -> AsyncIterator[Partial | TurnOutcome]:
        """The model's text as it comes, scaffolding stripped, nothing checked: only for
        measuring the guard's effect (chat.grounding_guard off)."""
        prompt = self._prompts.build(draft.message, draft.result.hits, draft.turns)
        sources = tuple(SourceRef(p.n, p.entry_id, p.title, p.url) for p in prompt.passages)
        pieces = [piece async for piece in self._runner.stream(prompt, timings)]
        text = strip_fences("".join(pieces)).strip()
        yield _outcome(draft, Answer(text, "generated", sources), prompt)

    async def _verdicts(
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
