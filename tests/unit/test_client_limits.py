"""The per-client limits as the entry points use them: address and session buckets,
exempt networks, counting of refusals, and a shared store that fails or hangs."""

from __future__ import annotations

import asyncio
import threading

import pytest

from service.config import LimitSettings, RateLimit, Settings
from service.db.guard import CircuitBreaker, DatabaseGuard
from service.throttle.buckets import Decision, Rate
from service.throttle.limits import ClientLimits, RateLimited, store_for

TIGHT = LimitSettings(
    chat_per_address=RateLimit(per_minute=60, burst=3),
    chat_per_session=RateLimit(per_minute=60, burst=2),
    exempt=["10.9.0.0/16"],
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def check(limits: ClientLimits, address: str, session: str | None = None) -> int:
    try:
        asyncio.run(limits.check("chat", address, session))
    except RateLimited as exc:
        return exc.retry_after_s
    return 0


def test_address_and_session_buckets_and_what_is_counted() -> None:
    refused: list[tuple[str, str]] = []
    limits = ClientLimits(TIGHT, on_refused=lambda *a: refused.append(a), clock=Clock())
    assert [check(limits, "203.0.113.1", "s1") for _ in range(3)] == [0, 0, 1]
    assert refused == [("chat", "session")]
    # a new session from the same address: the address bucket still has one token
    assert [check(limits, "203.0.113.1", f"new{i}") for i in range(2)] == [0, 1]
    assert refused[-1] == ("chat", "address")
    assert check(limits, "203.0.113.2") == 0  # another client is not affected
    assert all(check(limits, "10.9.8.7", "s1") == 0 for _ in range(10))  # exempt


def test_retry_after_is_whole_seconds_and_tokens_come_back() -> None:
    clock = Clock()
    slow = LimitSettings(chat_per_address=RateLimit(per_minute=2, burst=1))
    limits = ClientLimits(slow, clock=clock)
    assert check(limits, "a") == 0
    assert check(limits, "a") == 30
    clock.now += 29.5
    assert check(limits, "a") == 1
    clock.now += 0.6
    assert check(limits, "a") == 0


def test_limits_off_let_everything_through() -> None:
    off = ClientLimits(TIGHT.model_copy(update={"enabled": False}))
    assert all(check(off, "203.0.113.1", "s") == 0 for _ in range(20))


class HangingStore:
    def __init__(self) -> None:
        self.release = threading.Event()

    def take(self, key: str, rate: Rate, now: float) -> Decision:
        self.release.wait(5)
        return Decision(True)


class FailingStore:
    def take(self, key: str, rate: Rate, now: float) -> Decision:
        raise ConnectionError("redis: connection refused")


@pytest.mark.parametrize("store", [HangingStore(), FailingStore()])
def test_a_store_that_hangs_or_fails_leaves_the_decision_to_the_process(store: object) -> None:
    errors: list[int] = []
    guard = DatabaseGuard("limits", workers=2, timeout_s=0.05, breaker=CircuitBreaker(2, open_s=60))
    limits = ClientLimits(
        TIGHT,
        store,
        guard,
        on_store_error=lambda: errors.append(1),  # type: ignore[arg-type]
    )
    # the process's own buckets still limit the client
    assert [check(limits, "203.0.113.1") for _ in range(4)] == [0, 0, 0, 1]
    assert len(errors) == 4  # every check fell back; after two the breaker answers at once
    if isinstance(store, HangingStore):
        store.release.set()
    guard.close()


def test_the_store_follows_the_deployment() -> None:
    assert store_for(Settings()) == "memory"  # one process on SQLite
    pg = Settings(db={"url": "postgresql+psycopg://db/faqbot"})
    assert store_for(pg) == "database"
    shared = Settings(redis={"url": "redis://cache:6379/0"})
    assert store_for(shared) == "redis"
    assert store_for(Settings(limits={"store": "memory"}, redis={"url": "redis://x:1/0"})) == (
        "memory"
    )
    with pytest.raises(ValueError, match="redis.url"):
        store_for(Settings(limits={"store": "redis"}))


def test_an_address_refused_a_moment_ago_is_turned_away_at_the_door() -> None:
    clock = Clock()
    refused: list[tuple[str, str]] = []
    limits = ClientLimits(
        LimitSettings(chat_per_address=RateLimit(per_minute=6, burst=1)),
        on_refused=lambda *a: refused.append(a),
        clock=clock,
    )
    assert limits.door("chat", "203.0.113.9") is None  # nothing known yet
    assert check(limits, "203.0.113.9") == 0
    assert check(limits, "203.0.113.9") == 10
    at_door = limits.door("chat", "203.0.113.9")
    assert at_door is not None and at_door.retry_after_s == 10
    assert limits.door("chat", "203.0.113.8") is None  # others pass
    assert limits.door("login", "203.0.113.9") is None  # and other limits
    assert refused == [("chat", "address")] * 2
    clock.now += 10.5
    assert limits.door("chat", "203.0.113.9") is None  # refilled: the routes decide again
