"""A ChatModel that runs one generation at a time and answers only when released:
for admission, queueing and deadline tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Sequence

from service.llm.base import ChatMessage, GenerationOptions, approximate_tokens


class GatedChatModel:
    def __init__(self, reply: str = "Thirty days [1].") -> None:
        self.reply = reply
        self.started = 0
        self.release = threading.Event()

    @property
    def max_concurrency(self) -> int | None:
        return 1

    @property
    def name(self) -> str:
        return "gated"

    async def check(self) -> None:
        return None

    def count_tokens(self, text: str) -> int:
        return approximate_tokens(text)

    async def stream(
        self, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> AsyncIterator[str]:
        self.started += 1
        while not self.release.is_set():
            await asyncio.sleep(0.01)
        yield self.reply

    async def close(self) -> None:
        self.release.set()
