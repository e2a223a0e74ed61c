"""One contract for every RateBuckets store: memory, SQL on SQLite, PostgreSQL and
MariaDB, and Redis take tokens, refill them and refuse alike, and concurrent takes of one
bucket never let more through than the bucket holds."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from service.db.engine import make_engine
from service.db.migrations import upgrade
from service.throttle.buckets import MemoryBuckets, Rate, RateBuckets, decide
from service.throttle.redis_buckets import RedisBuckets
from service.throttle.sql_buckets import SqlBuckets
from tests.databases import BACKENDS

NOW = 1_800_000_000.0  # Unix seconds: large, as real clocks are (float precision matters)
TEN_A_MINUTE = Rate(per_minute=10, burst=3)  # a token every 6 s, three at once


@pytest.fixture(
    params=[
        "memory",
        *[pytest.param(name, marks=pytest.mark.integration) for name in BACKENDS],
        pytest.param("redis_url", marks=pytest.mark.integration),
    ]
)
def make_buckets(request: pytest.FixtureRequest) -> Callable[[], RateBuckets]:
    """A factory: every call is one more worker or replica on the same store."""
    if request.param == "memory":
        one = MemoryBuckets()
        return lambda: one
    url = request.getfixturevalue(request.param)
    if request.param == "redis_url":
        return lambda: RedisBuckets.from_url(url, timeout_s=2.0)
    upgrade(url)
    engine = make_engine(url)
    request.addfinalizer(engine.dispose)
    return lambda: SqlBuckets(engine)


def test_a_burst_then_one_token_per_interval(make_buckets: Callable[[], RateBuckets]) -> None:
    b = make_buckets()
    taken = [b.take("chat:a:1", TEN_A_MINUTE, NOW).allowed for _ in range(4)]
    assert taken == [True, True, True, False]
    refused = b.take("chat:a:1", TEN_A_MINUTE, NOW + 1)
    assert not refused.allowed and refused.retry_after_s == pytest.approx(5.0, abs=0.01)
    assert b.take("chat:a:1", TEN_A_MINUTE, NOW + 6.01).allowed
    assert not b.take("chat:a:1", TEN_A_MINUTE, NOW + 6.02).allowed
    # Another key has a bucket of its own; an idle bucket fills up again.
    assert b.take("chat:a:2", TEN_A_MINUTE, NOW + 1).allowed
    assert [b.take("chat:a:1", TEN_A_MINUTE, NOW + 60).allowed for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]


def test_refusals_do_not_use_up_the_refill(make_buckets: Callable[[], RateBuckets]) -> None:
    b = make_buckets()
    for _ in range(3):
        b.take("k", TEN_A_MINUTE, NOW)
    for i in range(50):  # a flood of refused requests
        assert not b.take("k", TEN_A_MINUTE, NOW + i * 0.1).allowed
    assert b.take("k", TEN_A_MINUTE, NOW + 6.01).allowed  # the next token came on time


def test_workers_share_one_bucket_and_concurrent_takes_are_counted_once(
    make_buckets: Callable[[], RateBuckets],
) -> None:
    rate = Rate(per_minute=0.001, burst=5)  # no refill during the test
    stores = [make_buckets() for _ in range(4)]

    def take(i: int) -> bool:
        return stores[i % 4].take("login:a:x", rate, NOW).allowed

    with ThreadPoolExecutor(8) as pool:
        allowed = list(pool.map(take, range(40)))
    assert sum(allowed) == 5


def test_the_step_itself() -> None:
    first, tat = decide(None, NOW, TEN_A_MINUTE)
    assert first.allowed and tat == NOW + 6
    refused, unchanged = decide(NOW + 12.5, NOW, TEN_A_MINUTE)
    assert not refused.allowed and unchanged is None
    assert refused.retry_after_s == pytest.approx(0.5)


def test_memory_buckets_stay_bounded() -> None:
    b = MemoryBuckets(max_keys=100)
    for i in range(1000):
        b.take(f"chat:a:{i}", TEN_A_MINUTE, NOW)
    assert len(b) == 100
