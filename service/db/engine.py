"""SQLAlchemy engines with timeouts on every backend, so no call can wait forever."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from service.config import DatabaseSettings


def make_engine(
    url: str,
    *,
    connect_timeout_s: int = 3,
    statement_timeout_s: float = 5.0,
) -> sa.Engine:
    """An engine for PostgreSQL (psycopg), MariaDB/MySQL (PyMySQL) or SQLite.

    Server-side limits end a statement the database is stuck on; the connect timeout ends
    a connection attempt to a server that accepts and never answers. Together they bound
    how long a worker thread can be held (the caller's own timeout only stops waiting)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, statement_timeout_s)
    connect_args: dict[str, Any] = {"connect_timeout": connect_timeout_s}
    if backend == "postgresql":
        ms = int(statement_timeout_s * 1000)
        options = str(parsed.query.get("options", ""))
        # Append to options given in the URL (e.g. a search_path) instead of replacing them.
        connect_args["options"] = f"{options} -c statement_timeout={ms}".strip()
    elif backend in ("mysql", "mariadb"):
        connect_args["read_timeout"] = max(1, round(statement_timeout_s))
        connect_args["write_timeout"] = max(1, round(statement_timeout_s))
    # No pool_pre_ping: it costs a round trip per checkout (measured: order lookup p95
    # 5.3 -> see docs/benchmarks.md). A connection the server dropped fails once, is
    # discarded by the pool, and the caller's "temporarily unavailable" path covers it.
    # pool_timeout: a caller waiting for a free connection gives up like any other call.
    return sa.create_engine(
        url,
        pool_size=5,
        max_overflow=5,
        pool_recycle=1800,
        pool_timeout=max(1.0, statement_timeout_s),
        connect_args=connect_args,
    )


def _sqlite_engine(url: str, busy_timeout_s: float) -> sa.Engine:
    # One file, many threads: calls run in worker threads. The busy timeout is how long a
    # statement waits for another writer's lock; it must end before the caller gives up.
    engine = sa.create_engine(
        url, connect_args={"check_same_thread": False, "timeout": busy_timeout_s}
    )

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        # WAL lets readers work while a write commits; synchronous=NORMAL drops an
        # fsync per commit (a power cut may lose the last turns, never corrupt the file).
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    return engine


def engine_for(url: str, settings: DatabaseSettings, caller_timeout_s: float) -> sa.Engine:
    """make_engine with the timeouts of the settings; a statement never outlives the
    caller's own timeout on it (SQLite's busy wait stops at 80% of it)."""
    return make_engine(
        url,
        connect_timeout_s=settings.connect_timeout_s,
        statement_timeout_s=min(settings.statement_timeout_s, 0.8 * caller_timeout_s),
    )
