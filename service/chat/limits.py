"""Admission to the model: a bounded number of generations at once, a bounded queue, and
a deadline that counts the time spent waiting in it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator


class Overloaded(RuntimeError):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__("too many requests are waiting for the model")
        self.retry_after_s = retry_after_s


class CannotStartInTime(TimeoutError):
    """The model would not start this generation before its first-token deadline."""


class GenerationLimiter:
    def __init__(
        self,
        max_concurrent: int,
        max_queue: int,
        retry_after_s: int = 5,
    ) -> None:
        self._max_concurrent = max_concurrent
        self._slots = asyncio.Semaphore(max_concurrent)
        self._max_queue = max_queue
        self._waiting = 0
        self._retry_after_s = retry_after_s
        # Moving average of how long a generation holds its slot, to tell at once when a
        # queued request could not start before its deadline.
        self._avg_hold_s: float | None = None

    @property
    def max_concurrent(self) -> int:
        return self._max_concurrent

    @property
    def full(self) -> bool:
        """Whether a new request would be refused now (checked before a stream starts,
        so the refusal can still be an HTTP 429)."""
        return self._slots.locked() and self._waiting >= self._max_queue

    @property
    def waiting(self) -> int:
        """Requests queued for a slot now."""
        return self._waiting

    @property
    def retry_after_s(self) -> int:
        return self._retry_after_s

    def expected_wait_s(self) -> float:
        if not self._slots.locked() or self._avg_hold_s is None:
            return 0.0
        rounds = self._waiting // self._max_concurrent + 1
        return rounds * self._avg_hold_s

    @contextlib.asynccontextmanager
    async def slot(self, start_by: float) -> AsyncIterator[None]:
        """A generation slot, taken before `start_by` (time.perf_counter()) or not at all.

        Raises Overloaded when the queue is full (the customer gets a 429 with
        Retry-After) and CannotStartInTime when the slot would come too late (the
        customer gets the fallback answer at once rather than after the deadline)."""
        if self.full:
            raise Overloaded(self._retry_after_s)
        remaining = start_by - time.perf_counter()
        if remaining <= 0 or self.expected_wait_s() > remaining:
            raise CannotStartInTime("the model is busy and could not start in time")
        if self._slots.locked():
            self._waiting += 1
            try:
                await asyncio.wait_for(self._slots.acquire(), remaining)
            except TimeoutError:
                raise CannotStartInTime("the model is busy and could not start in time") from None
            finally:
                self._waiting -= 1
        else:
            await self._slots.acquire()  # free: taken at once, no task switch
        taken = time.perf_counter()
        try:
            yield
        finally:
            self._slots.release()
            held = time.perf_counter() - taken
            avg = self._avg_hold_s
            self._avg_hold_s = held if avg is None else 0.8 * avg + 0.2 * held
