"""One contract for every ChatStore: SQL on SQLite, PostgreSQL and MariaDB, and the
in-memory store the fast tests use."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest

from service.chat.memory_store import MemoryChatStore
from service.chat.sql_store import SqlChatStore
from service.chat.store import ChatStore, Exchange, Shown, StoredMessage, UnknownMessage
from service.chat.turn import Retrieved, SourceRef, Suggestion
from service.config import DatabaseSettings
from service.db.engine import make_engine
from service.db.guard import guard_for
from service.db.migrations import upgrade
from tests.databases import BACKENDS

T = TypeVar("T")
RETRIEVED = (Retrieved("returns-window", 1.2),)


@pytest.fixture(
    params=[
        "memory",
        *[pytest.param(name, marks=pytest.mark.integration) for name in BACKENDS],
    ]
)
def make_store(request: pytest.FixtureRequest) -> Callable[[], ChatStore]:
    """Stores are made inside the test's event loop."""
    if request.param == "memory":
        store = MemoryChatStore()
        return lambda: store
    url = request.getfixturevalue(request.param)
    upgrade(url)
    engine = make_engine(url)
    request.addfinalizer(engine.dispose)
    return lambda: SqlChatStore(engine, guard_for("chat", DatabaseSettings(), 10.0))


def run(make_store: Callable[[], ChatStore], scenario: Callable[[ChatStore], Awaitable[T]]) -> T:
    async def main() -> T:
        return await scenario(make_store())

    return asyncio.run(main())


def exchange(session: str, n: int, **kw: object) -> Exchange:
    return Exchange(session, f"q{n}", f"a{n}", "canonical", RETRIEVED, "v000001", **kw)  # type: ignore[arg-type]


class TestChatStoreContract:
    def test_the_first_exchange_creates_the_session(self, make_store: Callable) -> None:  # type: ignore[type-arg]
        async def scenario(store: ChatStore) -> tuple[bool, bool]:
            before = await store.session_exists("s" * 32)
            await store.add_exchange(exchange("s" * 32, 1))
            return before, await store.session_exists("s" * 32)

        assert run(make_store, scenario) == (False, True)

    def test_history_is_the_last_messages_oldest_first(self, make_store: Callable) -> None:  # type: ignore[type-arg]
        async def scenario(store: ChatStore) -> tuple[list[str], list[str], list[str]]:
            start = datetime.now(UTC)
            for n in range(3):
                await store.add_exchange(
                    exchange("h" * 32, n, created_at=start + timedelta(seconds=n))
                )
            await store.add_exchange(exchange("o" * 32, 9))  # another session
            last4 = [m.content for m in await store.history("h" * 32, 4)]
            roles = [m.role for m in await store.history("h" * 32, 4)]
            return last4, roles, [m.content for m in await store.history("h" * 32, 0)]

        last4, roles, none = run(make_store, scenario)
        assert last4 == ["q1", "a1", "q2", "a2"] and roles == ["user", "assistant"] * 2
        assert none == []

    def test_an_answer_comes_back_with_what_was_shown_and_its_vote(
        self,
        make_store: Callable,  # type: ignore[type-arg]
    ) -> None:
        shown = Shown(
            (SourceRef(1, "returns-window", "How long?", "https://help.example/r"),),
            (Suggestion("returns-label", "Label?"),),
            "handoff",
        )

        async def scenario(store: ChatStore) -> list[StoredMessage]:
            e = exchange("v" * 32, 1, shown=shown)
            await store.add_exchange(e)
            await store.add_feedback(e.answer_id, "up", None)
            return await store.history("v" * 32, 10)

        question, answer = run(make_store, scenario)
        assert question.shown == Shown() and question.rating is None
        assert answer.shown == shown and answer.rating == "up"
        assert answer.entry_id == "returns-window"

    def test_emails_and_postal_codes_are_masked(self, make_store: Callable) -> None:  # type: ignore[type-arg]
        async def scenario(store: ChatStore) -> str:
            e = Exchange(
                "m" * 32,
                "I am ann.smith@example.com, postcode 10115",
                "Thanks ann.smith@example.com",
                "order",
                (),
                None,
            )
            await store.add_exchange(e)
            return " ".join(m.content for m in await store.history("m" * 32, 2))

        text = run(make_store, scenario)
        assert "ann.smith@example.com" not in text and "10115" not in text
        assert "a***@example.com" in text

    def test_feedback_needs_an_answer(self, make_store: Callable) -> None:  # type: ignore[type-arg]
        async def scenario(store: ChatStore) -> None:
            e = exchange("f" * 32, 1)
            await store.add_exchange(e)
            await store.add_feedback(e.answer_id, "down", "mail me at x.y@example.com")
            with pytest.raises(UnknownMessage):
                await store.add_feedback("missing", "up", None)
            await store.ping()

        run(make_store, scenario)

    def test_a_new_vote_replaces_the_answers_earlier_one(self, make_store: Callable) -> None:  # type: ignore[type-arg]
        async def scenario(store: ChatStore) -> tuple[object, object, object]:
            e = exchange("v" * 32, 1)
            await store.add_exchange(e)
            before = await store.vote(e.answer_id)
            await store.add_feedback(e.answer_id, "up", None)
            for _ in range(20):  # a client voting again and again keeps one vote
                await store.add_feedback(e.answer_id, "down", "call me on +49 176 1234 5678")
            await asyncio.gather(*(store.add_feedback(e.answer_id, "up", None) for _ in range(5)))
            after_race = await store.vote(e.answer_id)
            await store.add_feedback(e.answer_id, "down", "still wrong, call 030 5550190")
            return before, after_race, await store.vote(e.answer_id)

        before, after_race, last = run(make_store, scenario)
        assert before is None and after_race == ("up", None)
        assert last is not None and last[0] == "down"
        assert "5550190" not in str(last[1]) and "still wrong" in str(last[1])

    def test_the_shops_own_contact_stays_readable_in_answers(self) -> None:
        store = MemoryChatStore(public={"hello@shop.example", "+49 30 555 0190"})

        async def scenario() -> str:
            await store.add_exchange(
                Exchange(
                    "p" * 32,
                    "I am ann@example.com, call me on 0176 12345678",
                    "Write to hello@shop.example or call +49 30 555 0190.",
                    "canonical",
                    RETRIEVED,
                    "v000001",
                )
            )
            return " | ".join(m.content for m in await store.history("p" * 32, 2))

        text = asyncio.run(scenario())
        assert "ann@example.com" not in text and "12345678" not in text
        assert "hello@shop.example or call +49 30 555 0190" in text

    def test_purge_removes_what_is_older_than_the_cutoff(self, make_store: Callable) -> None:  # type: ignore[type-arg]
        async def scenario(store: ChatStore) -> tuple[int, bool, bool, list[str]]:
            now = datetime.now(UTC)
            await store.add_exchange(exchange("a" * 32, 1, created_at=now - timedelta(days=40)))
            await store.add_exchange(exchange("b" * 32, 2, created_at=now - timedelta(days=1)))
            removed = await store.purge(now - timedelta(days=30))
            return (
                removed,
                await store.session_exists("a" * 32),
                await store.session_exists("b" * 32),
                [m.content for m in await store.history("b" * 32, 2)],
            )

        removed, old, new, kept = run(make_store, scenario)
        assert removed >= 3 and not old and new and kept == ["q2", "a2"]
