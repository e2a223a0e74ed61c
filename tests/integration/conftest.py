"""Database fixtures shared by the integration tests: one isolated database per test on
SQLite, the real PostgreSQL (a schema per test) and the real MariaDB (a database per test).
With FAQBOT_REQUIRE_POSTGRES=1 / FAQBOT_REQUIRE_MARIADB=1 (CI) a missing server fails
instead of skipping."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
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


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A schema of its own per test, dropped afterwards."""
    admin = sa.create_engine(PG_ADMIN_URL)
    try:
        with admin.connect():
            pass
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if os.environ.get("FAQBOT_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required but unreachable: {exc}")
        pytest.skip("PostgreSQL is not running")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_ADMIN_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    """A database of its own per test on the MariaDB server, dropped afterwards."""
    admin = sa.create_engine(MARIADB_ADMIN_URL)
    try:
        with admin.connect():
            pass
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if os.environ.get("FAQBOT_REQUIRE_MARIADB") == "1":
            pytest.fail(f"MariaDB required but unreachable: {exc}")
        pytest.skip("MariaDB is not running")
    name = f"t_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE DATABASE `{name}`"))
    try:
        yield MARIADB_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE `{name}`"))
        admin.dispose()


BACKENDS = ["sqlite_url", "postgres_url", "mariadb_url"]
