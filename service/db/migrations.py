"""Runs the Alembic migrations programmatically (`faqbot db upgrade`, `serve
--upgrade-db`, tests), one process at a time per database.

Replicas that start together all run `--upgrade-db`. Each takes a lock in the database
first (PostgreSQL: an advisory lock; MariaDB/MySQL: GET_LOCK; SQLite: a lock file beside
the database) and migrates on the connection that holds it, so the first migrates and
the others, once they get the lock, find the schema current and do nothing."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic.config import Config

from alembic import command

log = logging.getLogger("faqbot.migrations")
# Per schema (PostgreSQL) and per database (MariaDB, whose locks are server-wide): two
# faqbot deployments on one server do not wait for each other.
PG_LOCK_KEY = 0x66617162  # "faqb"
PG_LOCK = f"{PG_LOCK_KEY}, hashtext(current_schema())"
MYSQL_LOCK = "LEFT(CONCAT('faqbot_migrations.', DATABASE()), 64)"
LOCK_WAIT_S = 600.0  # another replica's migrations; far longer than ours take


class MigrationLockTimeout(RuntimeError):
    """Another process held the migration lock for longer than we wait."""


@dataclass(frozen=True)
class Upgraded:
    before: frozenset[str]  # the revisions the database was at (empty: a new database)
    after: frozenset[str]

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _project_root() -> Path:
    """The folder with alembic.ini: the source tree for an editable install, else the
    working directory (the Docker image installs the package and runs from /app)."""
    for candidate in (Path(__file__).resolve().parents[2], Path.cwd()):
        if (candidate / "alembic.ini").is_file() and (candidate / "alembic").is_dir():
            return candidate
    raise FileNotFoundError(
        "alembic.ini and alembic/ not found: run faqbot db commands from the project folder"
    )


def alembic_config(url: str) -> Config:
    root = _project_root()
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "alembic"))
    config.attributes["url"] = url  # env.py prefers this over the settings
    return config


def behind(engine: sa.Engine) -> bool | None:
    """Whether the database lacks migrations this faqbot has (None: cannot tell here,
    e.g. no alembic folder next to an installed package)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    try:
        script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    except FileNotFoundError:
        return None
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current != set(script.get_heads())


def upgrade(url: str, revision: str = "head", wait_s: float = LOCK_WAIT_S) -> Upgraded:
    """Migrates under the database's migration lock; says what it found and left."""
    _ensure_sqlite_folder(url)
    with _locked(url, wait_s) as (conn, config):
        before = _heads(conn)
        command.upgrade(config, revision)
        conn.commit()
        return Upgraded(before, _heads(conn))


def downgrade(url: str, revision: str, wait_s: float = LOCK_WAIT_S) -> None:
    with _locked(url, wait_s) as (conn, config):
        command.downgrade(config, revision)
        conn.commit()


@contextlib.contextmanager
def _locked(url: str, wait_s: float) -> Iterator[tuple[sa.Connection, Config]]:
    """A connection holding the migration lock, and an Alembic config whose env.py
    migrates on that very connection."""
    config = alembic_config(url)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn, migration_lock(conn, url, wait_s):
            config.attributes["connection"] = conn
            yield conn, config
    finally:
        engine.dispose()


def _heads(conn: sa.Connection) -> frozenset[str]:
    from alembic.runtime.migration import MigrationContext

    return frozenset(MigrationContext.configure(conn).get_current_heads())


@contextlib.contextmanager
def migration_lock(conn: sa.Connection, url: str, wait_s: float) -> Iterator[None]:
    """Held for the whole migration by this connection's session; released on exit
    (and by the server if the process dies, since the session ends with it)."""
    name = conn.dialect.name
    if name == "postgresql":
        _wait(conn, f"SELECT pg_try_advisory_lock({PG_LOCK})", wait_s)
        release = f"SELECT pg_advisory_unlock({PG_LOCK})"
    elif name in ("mysql", "mariadb"):
        _wait(conn, f"SELECT GET_LOCK({MYSQL_LOCK}, 1)", wait_s)
        release = f"SELECT RELEASE_LOCK({MYSQL_LOCK})"
    elif name == "sqlite" and not url.startswith("sqlite:///:memory:"):
        with _file_lock(Path(url.removeprefix("sqlite:///") + ".migrate-lock"), wait_s):
            yield
        return
    else:
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(sa.exc.SQLAlchemyError):  # the session ends anyway
            conn.rollback()
            conn.execute(sa.text(release))
            conn.commit()


def _wait(conn: sa.Connection, sql: str, wait_s: float) -> None:
    deadline = time.monotonic() + wait_s
    said = False
    while True:
        got = conn.execute(sa.text(sql)).scalar()
        conn.commit()  # the lock is the session's; no transaction stays open while waiting
        if got == 1 or got is True:
            return
        if not said:
            log.warning("another process is migrating this database; waiting for it")
            said = True
        if time.monotonic() > deadline:
            raise MigrationLockTimeout(
                f"another process has held the migration lock for over {wait_s:.0f} s; "
                "if none is running, its database session is stuck: end it and retry"
            )
        time.sleep(0.5)


@contextlib.contextmanager
def _file_lock(path: Path, wait_s: float) -> Iterator[None]:
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    with path.open("a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise MigrationLockTimeout(
                        f"{path} has been locked for over {wait_s:.0f} s by another process"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _ensure_sqlite_folder(url: str) -> None:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
