"""One contract for every AttemptCounter: the in-memory one and SQL on SQLite,
PostgreSQL and MariaDB count, lock, forgive, start new windows and purge alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.db.engine import make_engine
from service.db.migrations import upgrade
from service.orders.attempts import (
    LOGIN_ONLY,
    AttemptCounter,
    MemoryAttemptCounter,
    SqlAttemptCounter,
)
from tests.databases import BACKENDS

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


@pytest.fixture(params=["memory", *BACKENDS])
def counter(request: pytest.FixtureRequest) -> AttemptCounter:
    if request.param == "memory":
        return MemoryAttemptCounter()
    url = request.getfixturevalue(request.param)
    upgrade(url)
    engine = make_engine(url)
    request.addfinalizer(engine.dispose)
    return SqlAttemptCounter(engine, 3600)


def test_counts_locks_and_starts_over(counter: AttemptCounter) -> None:
    hits = [counter.hit("order", "NW-1", window_s=60, now=NOW).count for _ in range(3)]
    assert hits == [1, 2, 3]
    assert counter.hit("session", "NW-1", window_s=60, now=NOW).count == 1  # scopes apart
    counter.lock("order", "NW-1", NOW + timedelta(minutes=5))
    during = counter.hit("order", "NW-1", window_s=60, now=NOW + timedelta(minutes=1))
    assert during.count == 3 and during.locked(NOW + timedelta(minutes=1))  # not counted
    after = counter.hit("order", "NW-1", window_s=60, now=NOW + timedelta(minutes=6))
    assert after.count == 1 and not after.locked(NOW + timedelta(minutes=6))


def test_a_window_expires_and_a_success_is_forgiven(counter: AttemptCounter) -> None:
    for _ in range(4):
        counter.hit("address", "203.0.113.9", window_s=600, now=NOW)
    counter.forgive("address", "203.0.113.9")
    assert counter.peek("address", "203.0.113.9", NOW).count == 3
    later = NOW + timedelta(minutes=11)
    assert counter.hit("address", "203.0.113.9", window_s=600, now=later).count == 1
    counter.reset("address", "203.0.113.9")
    assert counter.peek("address", "203.0.113.9", later).count == 0


def test_purge_keeps_locks_and_current_windows(counter: AttemptCounter) -> None:
    counter.hit("session", "old", window_s=60, now=NOW - timedelta(hours=2))
    counter.hit("session", "locked", window_s=60, now=NOW - timedelta(hours=2))
    counter.lock("session", "locked", NOW + timedelta(minutes=30))
    counter.hit("session", "fresh", window_s=60, now=NOW)
    assert counter.purge(NOW - timedelta(hours=1), NOW) == 1
    assert counter.peek("session", "old", NOW).count == 0
    assert counter.peek("session", "locked", NOW).locked(NOW)
    assert counter.peek("session", "fresh", NOW).count == 1


def test_a_purge_of_some_scopes_leaves_the_others(counter: AttemptCounter) -> None:
    """Console login failures share the table with the order lookup's counters, whose
    windows are longer: purging the one must not forget the other."""
    old = NOW - timedelta(hours=2)
    counter.hit("login", "erika|10.0.0.1", window_s=900, now=old)
    counter.hit("order", "NW-100234", window_s=86400, now=old)
    assert counter.purge(NOW - timedelta(hours=1), NOW, LOGIN_ONLY) == 1
    assert counter.peek("login", "erika|10.0.0.1", NOW).count == 0
    assert counter.peek("order", "NW-100234", NOW).count == 1
