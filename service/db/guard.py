"""Database calls on their own bounded thread pool, with a timeout and a circuit breaker.

A database that accepts connections and never answers holds every thread that calls it.
On the default executor those threads are the ones retrieval and readiness run on, so a
hung orders database would stall FAQ answers too. Here each database gets a few threads
of its own; when they are all busy, or the database kept failing, a call fails at once
with DatabaseUnavailable instead of queueing behind the hung ones.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Literal, ParamSpec, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from service.config import DatabaseSettings

log = logging.getLogger("faqbot.db")
P = ParamSpec("P")
T = TypeVar("T")
BreakerState = Literal["closed", "open", "half_open"]


NO_SCHEMA = (
    "faqbot's tables are missing or out of date: run `faqbot db upgrade` "
    "(or start with `faqbot serve --upgrade-db`)"
)
# SQLite, PostgreSQL (UndefinedTable / UndefinedColumn) and MariaDB/MySQL (1146, 1054)
_MISSING = re.compile(
    r"no such (table|column)|UndefinedTable|UndefinedColumn|relation \S+ does not exist"
    r"|\b(1146|1054)\b|doesn't exist|Unknown column",
    re.I,
)


def missing_schema(exc: BaseException) -> bool:
    """Whether a database error means the migrations have not been applied."""
    orig = getattr(exc, "orig", None) or exc
    return bool(_MISSING.search(f"{type(orig).__name__} {orig}"))


class DatabaseUnavailable(RuntimeError):
    """The database failed, timed out, or is known to be failing; callers degrade."""


class CircuitBreaker:
    """Opens after `failures` consecutive failures; after `open_s` lets one trial call
    through (half-open), which closes it on success or opens it again on failure."""

    def __init__(
        self, failures: int, open_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._threshold = failures
        self._open_s = open_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial = False
        self._lock = threading.Lock()

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._state()

    def _state(self) -> BreakerState:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self._open_s:
            return "half_open"
        return "open"

    def allow(self) -> bool:
        with self._lock:
            state = self._state()
            if state == "closed":
                return True
            if state == "half_open" and not self._trial:
                self._trial = True  # exactly one caller tries the database
                return True
            return False

    def success(self) -> None:
        with self._lock:
            self._failures, self._opened_at, self._trial = 0, None, False

    def failure(self) -> None:
        with self._lock:
            self._failures += 1
            self._trial = False
            if self._opened_at is not None or self._failures >= self._threshold:
                self._opened_at = self._clock()


class DatabaseGuard:
    def __init__(
        self,
        name: str,
        *,
        workers: int,
        timeout_s: float,
        breaker: CircuitBreaker,
    ) -> None:
        self.name = name
        self._timeout_s = timeout_s
        self._workers = workers
        # Calls beyond this many in flight fail at once: past it, the threads are held
        # by a database that does not answer, and waiting would only join the stall.
        self._max_in_flight = workers * 8
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"db-{name}")
        self._busy = 0
        self._busy_lock = threading.Lock()
        self.breaker = breaker

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        if not self.breaker.allow():
            raise DatabaseUnavailable(f"{self.name} database: failing, not tried (breaker open)")
        with self._busy_lock:
            if self._busy >= self._max_in_flight:
                raise DatabaseUnavailable(f"{self.name} database: too many calls waiting")
            self._busy += 1
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, self._call, fn, args, kwargs)
        # A call given up on may still fail later; mark its outcome as seen.
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        try:
            result = await asyncio.wait_for(asyncio.shield(future), timeout=self._timeout_s)
        except TimeoutError as exc:
            self.breaker.failure()
            log.warning("%s database: no answer in time", self.name)
            raise DatabaseUnavailable(f"{self.name} database: timed out") from exc
        except (SQLAlchemyError, OSError) as exc:
            self.breaker.failure()
            if missing_schema(exc):
                # SQL text would only confuse: say what to run
                log.error("%s database: %s", self.name, NO_SCHEMA)
                raise DatabaseUnavailable(f"{self.name} database: {NO_SCHEMA}") from exc
            log.warning("%s database failed: %s: %s", self.name, type(exc).__name__, exc)
            raise DatabaseUnavailable(f"{self.name} database: {type(exc).__name__}") from exc
        self.breaker.success()
        return result

    def _call(self, fn: Callable[..., T], args: tuple[object, ...], kwargs: dict[str, object]) -> T:
        try:
            return fn(*args, **kwargs)
        finally:
            with self._busy_lock:
                self._busy -= 1

    def close(self) -> None:
        # Threads stuck on a hung database are not waited for; they end with the process.
        self._executor.shutdown(wait=False, cancel_futures=True)


def guard_for(name: str, settings: DatabaseSettings, timeout_s: float) -> DatabaseGuard:
    return DatabaseGuard(
        name,
        workers=settings.workers,
        timeout_s=timeout_s,
        breaker=CircuitBreaker(settings.breaker_failures, settings.breaker_open_s),
    )
