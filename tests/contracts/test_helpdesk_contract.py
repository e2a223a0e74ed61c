"""One contract for every Helpdesk: the in-memory fake, and the Chatwoot adapter over
real HTTP against the protocol-faithful fake of Chatwoot's client API. A new helpdesk
gets the whole contract by adding a param."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from service.helpdesk.base import Helpdesk, HelpdeskError, Thread, Ticket
from service.helpdesk.chatwoot import ChatwootHelpdesk
from tests.fakes.chatwoot_server import INBOX, FakeChatwoot
from tests.fakes.memory_helpdesk import MemoryHelpdesk


@dataclass
class Subject:
    helpdesk: Helpdesk
    read: Callable[[Thread], list[str]]  # the conversation's messages, oldest first
    fail_next: Callable[[int], None]  # the next n calls fail


def _memory() -> Iterator[Subject]:
    desk = MemoryHelpdesk()

    def fail(n: int) -> None:
        desk.fail_next = n

    yield Subject(desk, lambda t: list(desk.conversations[t.conversation]), fail)


def _chatwoot() -> Iterator[Subject]:
    with FakeChatwoot() as fake:
        desk = ChatwootHelpdesk(fake.url, INBOX, timeout_s=5)

        def fail(n: int) -> None:
            fake.behaviour.fail_next = [503] * n

        yield Subject(desk, lambda t: fake.contents(t.conversation), fail)
        desk.close()


@pytest.fixture(params=[_memory, _chatwoot], ids=["memory", "chatwoot"])
def subject(request: pytest.FixtureRequest) -> Iterator[Subject]:
    yield from request.param()


def ticket(handoff_id: str = "a" * 32) -> Ticket:
    turns = (("user", "How long do I have to return it?"), ("assistant", "30 days."))
    return Ticket(
        handoff_id, handoff_id[:8].upper(), "Carla", "carla@example.com", "Call me", turns
    )


def test_a_conversation_opens_empty_and_keeps_its_messages_in_order(subject: Subject) -> None:
    thread = subject.helpdesk.open(ticket())
    assert subject.read(thread) == []
    subject.helpdesk.post(thread, "Conversation so far: ...")
    subject.helpdesk.post(thread, "Call me")
    subject.helpdesk.post(thread, "Still there?")
    assert subject.read(thread) == ["Conversation so far: ...", "Call me", "Still there?"]


def test_each_handoff_gets_its_own_conversation(subject: Subject) -> None:
    one = subject.helpdesk.open(ticket("a" * 32))
    two = subject.helpdesk.open(ticket("b" * 32))
    assert one != two
    subject.helpdesk.post(one, "Hello?")
    subject.helpdesk.post(two, "Other request")
    assert subject.read(one) == ["Hello?"] and subject.read(two) == ["Other request"]


def test_a_failing_helpdesk_raises_helpdesk_error_and_recovers(subject: Subject) -> None:
    thread = subject.helpdesk.open(ticket())
    subject.fail_next(1)
    with pytest.raises(HelpdeskError):
        subject.helpdesk.post(thread, "lost?")
    subject.helpdesk.post(thread, "again")
    assert subject.read(thread) == ["again"]
    subject.fail_next(1)
    with pytest.raises(HelpdeskError):
        subject.helpdesk.open(ticket("c" * 32))


def test_an_unknown_conversation_is_a_helpdesk_error(subject: Subject) -> None:
    thread = subject.helpdesk.open(ticket())
    with pytest.raises(HelpdeskError):
        subject.helpdesk.post(Thread("999999", thread.contact), "to nowhere")
    with pytest.raises(HelpdeskError):
        subject.helpdesk.post(Thread(thread.conversation, "someone-else"), "to nowhere")
