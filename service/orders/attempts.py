"""Attempt counters that every worker and replica shares: failed verifications per
session and per order number, verification attempts per client address.

Each `hit` counts one attempt atomically (one upsert with RETURNING on PostgreSQL and
SQLite; on MariaDB an UPDATE that adds one, then a read in the same transaction), so
concurrent tries cannot all read the same old count. An attempt is
counted before the details are checked: twenty tries sent at once use up twenty of the
allowance instead of all being checked against the database.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from service.db.tables import TIMESTAMP, as_utc, attempt_counters

# login: failed console logins per account and client address (service/admin/accounts.py)
Scope = Literal["session", "order", "address", "login"]
LOGIN_ONLY: tuple[Scope, ...] = ("login",)


@dataclass(frozen=True)
class Count:
    """The count in the current window after this attempt, and the lock, if any."""

    count: int
    locked_until: datetime | None = None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


class AttemptCounter(Protocol):
    def hit(self, scope: Scope, key: str, *, window_s: float, now: datetime) -> Count:
        """Count one attempt (not while locked; a window older than window_s, or an
        expired lock, starts over at 1)."""
        ...

    def peek(self, scope: Scope, key: str, now: datetime) -> Count:
        """The current state without counting."""
        ...

    def lock(self, scope: Scope, key: str, until: datetime) -> None: ...

    def forgive(self, scope: Scope, key: str) -> None:
        """Take back one counted attempt (it turned out not to be a failure)."""
        ...

    def reset(self, scope: Scope, key: str) -> None: ...

    def purge(
        self, older_than: datetime, now: datetime, scopes: Collection[Scope] | None = None
    ) -> int:
        """Forget windows started before older_than that hold no active lock (of these
        scopes only, when given: the table is shared by counters of other windows)."""
        ...


def hashed(key: str) -> str:
    # Client addresses and session ids are not kept in the clear; a digest counts as well.
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:40]


class SqlAttemptCounter:
    """Blocking calls (run them through the orders DatabaseGuard)."""

    PURGE_EVERY = 500  # hits between purges of stale rows, so the table stays small

    def __init__(
        self, engine: sa.Engine, max_window_s: float, scopes: Collection[Scope] | None = None
    ) -> None:
        self._engine = engine
        self._max_window_s = max_window_s
        self._scopes = scopes  # the scopes this counter's own purges may forget
        self._hits = 0

    def hit(self, scope: Scope, key: str, *, window_s: float, now: datetime) -> Count:
        k = hashed(key)
        if self._engine.dialect.name in ("postgresql", "sqlite"):
            count = self._upsert(scope, k, window_s, now)
        else:
            count = self._update_or_create(scope, k, window_s, now)
        self._hits += 1
        if self._hits % self.PURGE_EVERY == 0:
            self.purge(now - timedelta(seconds=self._max_window_s), now, self._scopes)
        return count

    @staticmethod
    def _changes(window_s: float, now: datetime) -> list[tuple[Any, Any]]:
        """The counter's new values, from the row's old ones: a locked row stays as it
        is, a stale window (or an expired lock) starts over at 1, else count + 1."""
        c = attempt_counters.c
        at = sa.bindparam("now", now, type_=TIMESTAMP)
        cutoff = sa.bindparam("cutoff", now - timedelta(seconds=window_s), type_=TIMESTAMP)
        locked = c.locked_until > at
        stale = sa.or_(c.window_start < cutoff, c.locked_until.is_not(None))
        # In this order: MySQL evaluates assignments left to right on the new values, so
        # count must be computed before window_start and locked_until change.
        return [
            (c.count, sa.case((locked, c.count), (stale, 1), else_=c.count + 1)),
            (c.window_start, sa.case((locked, c.window_start), (stale, at), else_=c.window_start)),
            (c.locked_until, sa.case((locked, c.locked_until), else_=sa.null())),
        ]

    def _upsert(self, scope: Scope, key: str, window_s: float, now: datetime) -> Count:
        """PostgreSQL and SQLite: one INSERT ... ON CONFLICT DO UPDATE ... RETURNING, a
        single atomic statement and round trip."""
        c = attempt_counters.c
        insert = pg_insert if self._engine.dialect.name == "postgresql" else sqlite_insert
        stmt = (
            insert(attempt_counters)
            .values(scope=scope, key=key, count=1, window_start=now, locked_until=None)
            .on_conflict_do_update(
                index_elements=[c.scope, c.key],
                set_={col.name: value for col, value in self._changes(window_s, now)},
            )
            .returning(c.count.label("n"), c.locked_until)
        )
        with self._engine.begin() as conn:
            row = conn.execute(stmt).one()
        return Count(row.n, as_utc(row.locked_until))

    def _update_or_create(self, scope: Scope, key: str, window_s: float, now: datetime) -> Count:
        """MariaDB/MySQL (no UPDATE ... RETURNING): the increment in a transaction of its
        own, a missing row created in another. An UPDATE that misses holds a gap lock on
        MariaDB, and an INSERT in the same transaction would deadlock with a concurrent
        one."""
        for _ in range(3):
            with self._engine.begin() as conn:
                count = self._increment(conn, scope, key, window_s, now)
            if count is not None:
                return count
            try:
                with self._engine.begin() as conn:
                    conn.execute(
                        attempt_counters.insert().values(
                            scope=scope, key=key, count=0, window_start=now, locked_until=None
                        )
                    )
            except IntegrityError:
                pass  # another request created it first; count on it
        raise RuntimeError("attempt counter: the row could be neither updated nor created")

    def _increment(
        self, conn: sa.Connection, scope: Scope, key: str, window_s: float, now: datetime
    ) -> Count | None:
        c = attempt_counters.c
        updated = conn.execute(
            attempt_counters.update()
            .where(c.scope == scope, c.key == key)
            .ordered_values(*self._changes(window_s, now))
        ).rowcount
        if not updated:
            return None
        # Same transaction: the row stays locked by our UPDATE until we have read it.
        row = conn.execute(
            sa.select(c.count.label("n"), c.locked_until).where(c.scope == scope, c.key == key)
        ).one()
        return Count(row.n, as_utc(row.locked_until))

    def peek(self, scope: Scope, key: str, now: datetime) -> Count:
        c = attempt_counters.c
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(c.count.label("n"), c.locked_until).where(
                    c.scope == scope, c.key == hashed(key)
                )
            ).first()
        return Count(0) if row is None else Count(row.n, as_utc(row.locked_until))

    def lock(self, scope: Scope, key: str, until: datetime) -> None:
        c = attempt_counters.c
        with self._engine.begin() as conn:
            conn.execute(
                attempt_counters.update()
                .where(c.scope == scope, c.key == hashed(key))
                .values(locked_until=until)
            )

    def forgive(self, scope: Scope, key: str) -> None:
        c = attempt_counters.c
        with self._engine.begin() as conn:
            conn.execute(
                attempt_counters.update()
                .where(c.scope == scope, c.key == hashed(key), c.count > 0)
                .values(count=c.count - 1)
            )

    def reset(self, scope: Scope, key: str) -> None:
        c = attempt_counters.c
        with self._engine.begin() as conn:
            conn.execute(attempt_counters.delete().where(c.scope == scope, c.key == hashed(key)))

    def purge(
        self, older_than: datetime, now: datetime, scopes: Collection[Scope] | None = None
    ) -> int:
        c = attempt_counters.c
        stale = [
            c.window_start < older_than,
            sa.or_(c.locked_until.is_(None), c.locked_until <= now),
        ]
        if scopes is not None:
            stale.append(c.scope.in_(list(scopes)))
        with self._engine.begin() as conn:
            return conn.execute(attempt_counters.delete().where(*stale)).rowcount


@dataclass
class _Entry:
    count: int
    window_start: datetime
    locked_until: datetime | None = None


class MemoryAttemptCounter:
    """One process only: for unit tests and single-process use. Bounded: past
    max_entries the least recently used key is evicted, never the whole table."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self._max = max_entries
        self._data: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, scope: Scope, key: str, *, window_s: float, now: datetime) -> Count:
        k = (scope, hashed(key))
        with self._lock:
            e = self._data.get(k)
            if e is None:
                e = self._data[k] = _Entry(0, now)
            self._data.move_to_end(k)
            if e.locked_until is not None and e.locked_until > now:
                return Count(e.count, e.locked_until)
            if e.locked_until is not None or e.window_start < now - timedelta(seconds=window_s):
                e.count, e.window_start, e.locked_until = 0, now, None
            e.count += 1
            while len(self._data) > self._max:
                self._data.popitem(last=False)
            return Count(e.count, e.locked_until)

    def peek(self, scope: Scope, key: str, now: datetime) -> Count:
        with self._lock:
            e = self._data.get((scope, hashed(key)))
            return Count(0) if e is None else Count(e.count, e.locked_until)

    def lock(self, scope: Scope, key: str, until: datetime) -> None:
        with self._lock:
            e = self._data.get((scope, hashed(key)))
            if e is not None:
                e.locked_until = until

    def forgive(self, scope: Scope, key: str) -> None:
        with self._lock:
            e = self._data.get((scope, hashed(key)))
            if e is not None and e.count > 0:
                e.count -= 1

    def reset(self, scope: Scope, key: str) -> None:
        with self._lock:
            self._data.pop((scope, hashed(key)), None)

    def purge(
        self, older_than: datetime, now: datetime, scopes: Collection[Scope] | None = None
    ) -> int:
        with self._lock:
            stale = [
                k
                for k, e in self._data.items()
                if e.window_start < older_than
                and not (e.locked_until and e.locked_until > now)
                and (scopes is None or k[0] in scopes)
            ]
            for k in stale:
                del self._data[k]
            return len(stale)

    def __len__(self) -> int:
        return len(self._data)
