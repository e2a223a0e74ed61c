"""The same Alembic migrations on SQLite, PostgreSQL and MariaDB, up and down."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from service.db.migrations import downgrade, upgrade
from service.db.tables import metadata
from tests.databases import BACKENDS

pytestmark = pytest.mark.integration


def _schema(engine: sa.Engine) -> dict[str, set[str]]:
    inspector = sa.inspect(engine)
    return {
        t: {c["name"] for c in inspector.get_columns(t)}
        for t in inspector.get_table_names()
        if t != "alembic_version"
    }


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

    from service.chat.sql_store import SqlChatStore
    from service.chat.store import Exchange, UnknownMessage
    from service.chat.turn import Retrieved
    from service.config import DatabaseSettings
    from service.db.engine import make_engine
    from service.db.guard import guard_for

    url = request.getfixturevalue(backend)
    upgrade(url)
    engine = make_engine(url)
    store = SqlChatStore(engine, guard_for("chat", DatabaseSettings(), 5.0))

    async def scenario() -> None:
        session = "s" * 32
        assert not await store.session_exists(session)
        retrieved = (Retrieved("returns-window", 1.2),)
        # the first exchange creates the session row
        await store.add_exchange(Exchange(session, "q1", "a1", "generated", retrieved, "v1"))
        assert await store.session_exists(session)
        second = Exchange(session, "q2", "a2", "canonical", retrieved, "v1")
        await store.add_exchange(second)
        answer_id = second.answer_id
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
