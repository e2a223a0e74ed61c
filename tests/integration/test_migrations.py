"""The same Alembic migrations on SQLite and on the real PostgreSQL, up and down."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from service.db.migrations import downgrade, upgrade
from service.db.tables import metadata

pytestmark = pytest.mark.integration

MARIADB_ADMIN_URL = os.environ.get(
    "FAQBOT_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test"
)
PG_ADMIN_URL = os.environ.get(
    "FAQBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _schema(engine: sa.Engine) -> dict[str, set[str]]:
    inspector = sa.inspect(engine)
    return {
        t: {c["name"] for c in inspector.get_columns(t)}
        for t in inspector.get_table_names()
        if t != "alembic_version"
    }


@pytest.fixture
def sqlite_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
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


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_matches_the_table_definitions_and_downgrade_removes_them(
    backend: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(backend)
    upgrade(url)
    engine = sa.create_engine(url)
    try:
        expected = {t.name: {c.name for c in t.columns} for t in metadata.sorted_tables}
        assert _schema(engine) == expected
        downgrade(url, "base")
        assert _schema(engine) == {}
        upgrade(url)  # and up again: the downgrade left nothing behind that blocks it
        assert _schema(engine) == expected
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_chat_store_round_trip(backend: str, request: pytest.FixtureRequest) -> None:
    import asyncio

    from service.db.chat_store import SqlChatStore, UnknownMessage, make_engine

    url = request.getfixturevalue(backend)
    upgrade(url)
    engine = make_engine(url)
    store = SqlChatStore(engine)

    async def scenario() -> None:
        session = await store.ensure_session(None)
        assert await store.ensure_session(session) == session
        retrieved = [{"id": "returns-window", "score": 1.2}]
        await store.add_exchange(session, "q1", "a1", "generated", retrieved, "v000001")
        answer_id = await store.add_exchange(session, "q2", "a2", "canonical", retrieved, "v000001")
        history = await store.history(session, 4)
        assert [(m.role, m.content) for m in history] == [
            ("user", "q1"),
            ("assistant", "a1"),
            ("user", "q2"),
            ("assistant", "a2"),
        ]
        assert [m.content for m in await store.history(session, 2)] == ["q2", "a2"]
        await store.add_feedback(answer_id, "down", "wrong")
        with pytest.raises(UnknownMessage):
            await store.add_feedback("missing", "up", None)
        await store.ping()

    try:
        asyncio.run(scenario())
        with engine.connect() as conn:
            row = conn.execute(sa.text("select question, rating from feedback")).one()
        assert tuple(row) == ("q2", "down")
    finally:
        engine.dispose()
