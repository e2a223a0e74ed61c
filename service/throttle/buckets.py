"""Token buckets as GCRA (the generic cell rate algorithm): one number per key, the
"theoretical arrival time" of the next request, instead of a token count and a refill
time. A request is allowed when it would not arrive more than `burst - 1` intervals
early; it then moves the arrival time on by one interval. This is a token bucket of
`burst` tokens refilled at `per_minute`, in one read and one write, which Redis (a Lua
script) and SQL (one upsert) can each do atomically.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Rate:
    per_minute: float
    burst: int

    @property
    def interval_s(self) -> float:
        return 60.0 / self.per_minute

    @property
    def tolerance_s(self) -> float:
        """How far ahead of now the arrival time may run before requests are refused."""
        return (self.burst - 1) * self.interval_s


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after_s: float = 0.0


def decide(stored_tat: float | None, now: float, rate: Rate) -> tuple[Decision, float | None]:
    """The decision and the arrival time to store (None: leave it as it is)."""
    tat = max(stored_tat if stored_tat is not None else now, now)
    early = tat - now
    if early > rate.tolerance_s:
        return Decision(False, early - rate.tolerance_s), None
    return Decision(True), tat + rate.interval_s


class RateBuckets(Protocol):
    """Where the buckets live (memory, Redis, SQL). Contract: tests/contracts."""

    def take(self, key: str, rate: Rate, now: float) -> Decision:
        """Take one token from key's bucket at time `now` (Unix seconds), atomically."""
        ...


class MemoryBuckets:
    """One process's buckets. Bounded: past max_keys the least recently used key is
    forgotten, which only ever lets an idle client start again with a full bucket."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._tats: OrderedDict[str, float] = OrderedDict()
        self._max_keys = max_keys
        self._lock = threading.Lock()

    def take(self, key: str, rate: Rate, now: float) -> Decision:
        with self._lock:
            decision, tat = decide(self._tats.get(key), now, rate)
            if tat is not None:
                self._tats[key] = tat
            if key in self._tats:
                self._tats.move_to_end(key)
            while len(self._tats) > self._max_keys:
                self._tats.popitem(last=False)
            return decision

    def __len__(self) -> int:
        return len(self._tats)
