"""Running one prompt on the model: admission, deadlines that count queue time, and the
timings of the model's part."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from service.chat.limits import GenerationLimiter
from service.chat.prompt import BuiltPrompt
from service.chat.turn import Timings
from service.config import LLMSettings
from service.llm.base import ChatModel, GenerationOptions


def generation_limiter(model: ChatModel, settings: LLMSettings) -> GenerationLimiter:
    """Admits no more generations than the model can run at once: the in-process model
    runs one, and a second admitted one would only wait out its own timeout."""
    model_limit = model.max_concurrency or settings.max_concurrent
    return GenerationLimiter(min(settings.max_concurrent, model_limit), settings.max_queue)


class ModelRunner:
    def __init__(
        self, model: ChatModel, settings: LLMSettings, limiter: GenerationLimiter | None = None
    ) -> None:
        self._model = model
        self._settings = settings
        self._options = GenerationOptions(
            settings.max_tokens, settings.temperature, settings.repeat_penalty
        )
        self.limiter = limiter or generation_limiter(model, settings)

    async def stream(self, prompt: BuiltPrompt, timings: Timings) -> AsyncIterator[str]:
        """The model's text pieces. Raises TimeoutError past a deadline, Overloaded
        beyond the queue, CannotStartInTime when a slot would come too late, and
        ModelError when the model fails."""
        llm = self._settings
        # Both deadlines start when the request asks for the model, so time spent queued
        # for a slot counts against them.
        t0 = time.perf_counter()
        first_by = t0 + llm.first_token_timeout_s
        deadline = t0 + llm.total_timeout_s
        async with self.limiter.slot(start_by=min(first_by, deadline)):
            timings.llm_queue_ms = (time.perf_counter() - t0) * 1000
            pieces = self._model.stream(prompt.messages, self._options)
            try:
                async for piece in _with_deadlines(pieces, first_by, deadline):
                    if timings.llm_first_token_ms is None:
                        timings.llm_first_token_ms = (time.perf_counter() - t0) * 1000
                    yield piece
            finally:
                timings.llm_total_ms = (time.perf_counter() - t0) * 1000
                await pieces.aclose()  # type: ignore[attr-defined]


async def _with_deadlines(
    pieces: AsyncIterator[str], first_by: float, deadline: float
) -> AsyncIterator[str]:
    first = True
    while True:
        timeout = (min(first_by, deadline) if first else deadline) - time.perf_counter()
        if timeout <= 0:
            raise TimeoutError("the model ran out of time")
        try:
            piece = await asyncio.wait_for(anext(pieces), timeout)
        except StopAsyncIteration:
            return
        except TimeoutError:
            what = "first token" if first else "answer"
            raise TimeoutError(f"model timed out waiting for the {what}") from None
        first = False
        yield piece
