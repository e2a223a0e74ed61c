"""The helpdesk outbox on SQLite with the in-memory helpdesk and a clock the test moves:
a handoff opens one conversation, the customer's messages follow it in order and never
before it, failures wait longer each time, and a helpdesk that never takes it gives the
handoff to the console's agents with nothing the customer wrote lost."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from service.chat.store import StoredMessage
from service.config import DatabaseSettings, HandoffSettings, HelpdeskSettings
from service.db.engine import make_engine
from service.db.guard import guard_for
from service.db.migrations import upgrade
from service.db.tables import handoff_messages, handoff_requests
from service.handoff import HandoffDesk, HandoffRequest
from service.helpdesk.base import HelpdeskError
from service.helpdesk.outbox import HelpdeskOutbox
from service.live_handoff import LiveHandoffs
from tests.fakes.memory_helpdesk import MemoryHelpdesk


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC) + timedelta(seconds=1)  # the requests are made now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class World:
    def __init__(self, tmp: Path, max_attempts: int = 3) -> None:
        url = f"sqlite:///{tmp / 'outbox.db'}"
        upgrade(url)
        self.engine = make_engine(url)
        self.guard = guard_for("handoff", DatabaseSettings(), 5)
        self.helpdesk = MemoryHelpdesk()
        self.clock = Clock()
        settings = HelpdeskSettings(retry_s=10, max_attempts=max_attempts, agent_name="Team")
        self.outbox = HelpdeskOutbox(self.engine, self.helpdesk, settings, clock=self.clock)
        self.desk = HandoffDesk(self.engine, self.guard, HandoffSettings(), helpdesk="memory")
        self.live = LiveHandoffs(self.engine)

    def hand_off(self, session: str = "s1", *conversation: StoredMessage) -> str:
        request = HandoffRequest(
            "Carla", "carla@example.com", "Call me", session, conversation=conversation
        )
        asyncio.run(self.desk.submit(request))
        return request.id

    def status(self, handoff_id: str) -> tuple[str, str | None, str | None]:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(
                    handoff_requests.c.status, handoff_requests.c.agent, handoff_requests.c.helpdesk
                ).where(handoff_requests.c.id == handoff_id)
            ).one()
        return row.status, row.agent, row.helpdesk


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.guard.close()
    w.engine.dispose()


def test_a_handoff_opens_one_conversation_and_the_bot_falls_silent(world: World) -> None:
    asked = StoredMessage("m1", "user", "How long do I have to return it?")
    hid = world.hand_off("s1", asked, StoredMessage("m2", "assistant", "Within 30 days."))
    assert world.live.holder("s1") is None  # not there yet: the bot answers
    assert world.outbox.deliver_due() == 3  # the conversation, the transcript, the request
    assert world.status(hid) == ("claimed", "Team", "memory")
    assert world.live.holder("s1") == "Team"
    [(transcript, request)] = world.helpdesk.conversations.values()
    assert "Customer: How long do I have to return it?\nBot: Within 30 days." in transcript
    assert request == "Call me"
    assert world.outbox.deliver_due() == 0  # sent once


def test_a_failed_message_never_opens_a_second_conversation(world: World) -> None:
    """The conversation is open there and the request fails: only the request is tried
    again. (Opening anew would leave the first conversation, where an agent's reply
    would reach nobody.)"""
    hid = world.hand_off()
    real_post = world.helpdesk.post
    calls: list[str] = []

    def flaky(thread: Any, text: str) -> None:
        calls.append(text)
        if len(calls) == 1:
            raise HelpdeskError("Chatwoot answered HTTP 502")
        real_post(thread, text)

    world.helpdesk.post = flaky  # type: ignore[method-assign]
    assert world.outbox.deliver_due() == 1  # opened; the request failed
    world.clock.advance(10)
    assert world.outbox.deliver_due() == 1
    assert list(world.helpdesk.conversations.values()) == [["Call me"]]  # one conversation
    assert [i["state"] for i in world.outbox.pending(hid)] == ["sent", "sent"]


def test_messages_follow_the_conversation_in_order_and_wait_for_it(world: World) -> None:
    hid = world.hand_off()
    world.helpdesk.fail_next = 1
    assert world.outbox.deliver_due() == 0
    assert world.outbox.pending(hid)[0]["attempts"] == 1
    world.outbox.deliver_due()  # not due yet: nothing tried
    assert world.outbox.pending(hid)[0]["attempts"] == 1
    world.clock.advance(10)
    assert world.outbox.deliver_due() == 2  # opened, and the request sent
    world.live.from_customer("s1", "first")
    world.live.from_customer("s1", "second")
    world.helpdesk.fail_next = 1
    assert world.outbox.deliver_due() == 0  # "first" failed: "second" must not overtake it
    world.clock.advance(10)
    assert world.outbox.deliver_due() == 2
    [messages] = world.helpdesk.conversations.values()
    assert messages == ["Call me", "first", "second"]


def test_each_retry_waits_twice_as_long(world: World) -> None:
    hid = world.hand_off()
    world.helpdesk.fail_next = 2
    world.outbox.deliver_due()
    world.clock.advance(10)
    world.outbox.deliver_due()  # second failure: the next try in 20 s
    world.clock.advance(19)
    world.outbox.deliver_due()
    assert world.outbox.pending(hid)[0]["attempts"] == 2
    world.clock.advance(1)
    assert world.outbox.deliver_due() == 2


def test_a_helpdesk_that_never_takes_it_hands_over_to_the_console(world: World) -> None:
    hid = world.hand_off()
    world.helpdesk.fail_next = 100
    for _ in range(3):
        world.outbox.deliver_due()
        world.clock.advance(3600)
    assert [i["state"] for i in world.outbox.pending(hid)] == ["failed"]
    assert world.status(hid) == ("open", None, None)
    assert [h["id"] for h in world.live.waiting()] == [hid]  # the console's agents see it
    world.helpdesk.fail_next = 0
    assert world.outbox.deliver_due() == 0  # given up: not sent later behind their back


def test_purge_keeps_what_still_waits_to_be_sent(world: World) -> None:
    sent = world.hand_off("s1")
    world.outbox.deliver_due()
    world.live.from_customer("s1", "hello")
    world.helpdesk.fail_next = 1
    world.outbox.deliver_due()  # "hello" waits for its retry
    later = world.clock.now + timedelta(days=1)
    world.desk.purge(later)
    assert [i["state"] for i in world.outbox.pending(sent)] == ["pending"]  # only "hello"
    with world.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(handoff_messages)).scalar() == 0
