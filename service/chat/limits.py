"""A bounded number of concurrent generations with a bounded wait queue."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class Overloaded(RuntimeError):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__("too many requests are waiting for the model")
        self.retry_after_s = retry_after_s


class GenerationLimiter:
    def __init__(self, max_concurrent: int, max_queue: int, retry_after_s: int = 5) -> None:
        self._slots = asyncio.Semaphore(max_concurrent)
        self._max_queue = max_queue
        self._waiting = 0
        self._retry_after_s = retry_after_s

    @property
    def waiting(self) -> int:
        return self._waiting

    @property
    def full(self) -> bool:
        """Whether a new request would be refused now (checked before a stream starts,
        so the refusal can still be an HTTP 429)."""
        return self._slots.locked() and self._waiting >= self._max_queue

    @property
    def retry_after_s(self) -> int:
        return self._retry_after_s

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        # Refuse at once rather than queue forever: a customer is better served by a
        # 429 with Retry-After than by a request that times out in the queue.
        if self.full:
            raise Overloaded(self._retry_after_s)
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        try:
            yield
        finally:
            self._slots.release()
