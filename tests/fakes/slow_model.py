"""A ChatModel that runs one generation at a time: it sends its first word at once and
the rest only when released. For admission, queueing and deadline tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Sequence

from service.llm.base import ChatMessage, GenerationOptions
from tests.fakes.instant_model import InstantChatModel


class GatedChatModel(InstantChatModel):
    def __init__(self, reply: str = "Thirty days [1].") -> None:
        super().__init__(reply)
        self.started = 0
        self.release = threading.Event()

    @property
    def max_concurrency(self) -> int | None:
        return 1

    @property
    def name(self) -> str:
        return "gated"

    async def stream(
        self, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> AsyncIterator[str]:
        self.started += 1
        first, _, rest = self.default_reply.partition(" ")
        yield first + " "
        while not self.release.is_set():
            await asyncio.sleep(0.01)
        yield rest

    async def close(self) -> None:
        self.release.set()
