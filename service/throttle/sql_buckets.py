"""Token buckets in the database (PostgreSQL, MariaDB/MySQL, SQLite), for deployments
that share a database but no Redis: the GCRA step of buckets.py as one upsert, so
concurrent requests in any worker or replica cannot both take the last token.

PostgreSQL and SQLite: INSERT ... ON CONFLICT DO UPDATE ... RETURNING, one statement.
MariaDB/MySQL: INSERT ... ON DUPLICATE KEY UPDATE (its assignments run left to right, so
`ok` is decided from the old arrival time before `tat` changes), then a read of the row
in the same transaction, which still holds its lock. Blocking: run it on a DatabaseGuard.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError

from service.db.tables import rate_buckets
from service.throttle.buckets import Decision, Rate

PURGE_EVERY = 1000  # takes between deletions of full buckets, so the table stays small


class SqlBuckets:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._takes = 0

    def take(self, key: str, rate: Rate, now: float) -> Decision:
        self._takes += 1
        if self._takes % PURGE_EVERY == 0:
            self.purge(now)
        if self._engine.dialect.name in ("mysql", "mariadb"):
            tat, ok = self._mysql(key, rate, now)
        else:
            tat, ok = self._upsert(key, rate, now)
        if ok:
            return Decision(True)
        return Decision(False, max(0.0, max(tat, now) - now - rate.tolerance_s))

    @staticmethod
    def _changes(rate: Rate, now: float, *, mysql: bool = False) -> list[tuple[Any, Any]]:
        """`ok` and the new arrival time, from the row's old one. In this order: MySQL
        runs the assignments left to right on the new values, so there `tat` reads the
        new `ok` (and the still old `tat`); elsewhere every assignment reads the old row."""
        c = rate_buckets.c
        at: sa.BindParameter[float] = sa.bindparam("now", now, type_=sa.Double())
        start = sa.case((c.tat > at, c.tat), else_=at)
        refused = start - at > rate.tolerance_s
        keep = c.ok == 0 if mysql else refused
        return [
            (c.ok, sa.case((refused, 0), else_=1)),
            (c.tat, sa.case((keep, c.tat), else_=start + rate.interval_s)),
        ]

    def _upsert(self, key: str, rate: Rate, now: float) -> tuple[float, bool]:
        c = rate_buckets.c
        insert = pg_insert if self._engine.dialect.name == "postgresql" else sqlite_insert
        stmt = (
            insert(rate_buckets)
            .values(key=key, tat=now + rate.interval_s, ok=1)
            .on_conflict_do_update(
                index_elements=[c.key],
                set_={col.name: value for col, value in self._changes(rate, now)},
            )
            .returning(c.tat, c.ok)
        )
        with self._engine.begin() as conn:
            row = conn.execute(stmt).one()
        return float(row.tat), bool(row.ok)

    def _mysql(self, key: str, rate: Rate, now: float) -> tuple[float, bool]:
        c = rate_buckets.c
        stmt = (
            mysql_insert(rate_buckets)
            .values(key=key, tat=now + rate.interval_s, ok=1)
            .on_duplicate_key_update(
                [(col.name, value) for col, value in self._changes(rate, now, mysql=True)]
            )
        )
        for attempt in range(3):
            try:
                with self._engine.begin() as conn:
                    conn.execute(stmt)
                    row = conn.execute(sa.select(c.tat, c.ok).where(c.key == key)).one()
                return float(row.tat), bool(row.ok)
            except OperationalError:
                if attempt == 2:  # a deadlock between two first takes of one key: once more
                    raise
        raise AssertionError("unreachable")

    def purge(self, now: float) -> int:
        """Forget buckets that are full again (their arrival time has passed)."""
        with self._engine.begin() as conn:
            return int(conn.execute(rate_buckets.delete().where(rate_buckets.c.tat < now)).rowcount)
