"""A ChatModel that answers at once with queued replies and records every prompt.
For measuring the service's own overhead and for tests that need an exact reply."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from service.llm.base import (
    ChatMessage,
    GenerationOptions,
    ModelError,
    ModelUnavailable,
    approximate_tokens,
)


class InstantChatModel:
    def __init__(self, default_reply: str = "See the policy [1].", available: bool = True) -> None:
        self.default_reply = default_reply
        self.available = available  # False: behaves like a model that is not there
        self.queued: list[str | Exception] = []
        self.prompts: list[list[ChatMessage]] = []

    @property
    def max_concurrency(self) -> int | None:
        return None

    @property
    def name(self) -> str:
        return "instant"

    def enqueue(self, reply: str | Exception) -> None:
        self.queued.append(reply)

    async def check(self) -> None:
        if not self.available:
            raise ModelUnavailable("the instant model is switched off")

    def count_tokens(self, text: str) -> int:
        return approximate_tokens(text)

    async def stream(
        self, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> AsyncIterator[str]:
        if not self.available:
            raise ModelUnavailable("the instant model is switched off")
        self.prompts.append(list(messages))
        reply = self.queued.pop(0) if self.queued else self.default_reply
        if isinstance(reply, Exception):
            raise reply if isinstance(reply, ModelError) else ModelError(str(reply))
        for word in reply.split(" "):
            yield word + " "

    async def close(self) -> None:
        return None
