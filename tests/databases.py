"""Database fixtures: one isolated database per test on SQLite, the real PostgreSQL (a
schema per test) and the real MariaDB (a database per test). With
FAQBOT_REQUIRE_POSTGRES=1 / FAQBOT_REQUIRE_MARIADB=1 (CI) a missing server fails
instead of skipping. Imported by tests/conftest.py, so every test folder has them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

MARIADB_ADMIN_URL = os.environ.get(
    "FAQBOT_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test"
)
PG_ADMIN_URL = os.environ.get(
    "FAQBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'm.db'}"


def _isolated(
    admin_url: str,
    label: str,
    require_env: str,
    create: str,
    drop: str,
    url_for: Callable[[str], str],
) -> Iterator[str]:
    """Create a uniquely named schema/database on a real server, yield its URL, drop it."""
    admin = sa.create_engine(admin_url)
    try:
        with admin.connect():
            pass
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if os.environ.get(require_env) == "1":
            pytest.fail(f"{label} required but unreachable: {exc}")
        pytest.skip(f"{label} is not running")
    name = f"t_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(sa.text(create.format(name=name)))
    try:
        yield url_for(name)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(drop.format(name=name)))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A schema of its own per test, dropped afterwards."""
    yield from _isolated(
        PG_ADMIN_URL,
        "PostgreSQL",
        "FAQBOT_REQUIRE_POSTGRES",
        'CREATE SCHEMA "{name}"',
        'DROP SCHEMA "{name}" CASCADE',
        lambda name: f"{PG_ADMIN_URL}?options=-csearch_path%3D{name}",
    )


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    """A database of its own per test on the MariaDB server, dropped afterwards."""
    yield from _isolated(
        MARIADB_ADMIN_URL,
        "MariaDB",
        "FAQBOT_REQUIRE_MARIADB",
        "CREATE DATABASE `{name}`",
        "DROP DATABASE `{name}`",
        lambda name: MARIADB_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}",
    )


BACKENDS = ["sqlite_url", "postgres_url", "mariadb_url"]


REDIS_URL = os.environ.get("FAQBOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_url() -> Iterator[str]:
    """Database 15 of the Redis server, emptied before and after: the tests' own."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("FAQBOT_REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis required but unreachable: {exc}")
        pytest.skip("Redis is not running")
    client.flushdb()
    try:
        yield REDIS_URL
    finally:
        client.flushdb()
        client.close()
