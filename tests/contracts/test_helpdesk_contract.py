"""One contract for every Helpdesk: the in-memory fake, and the Chatwoot adapter over
real HTTP against the protocol-faithful fake of Chatwoot's client API. A new helpdesk
gets the whole contract by adding a param."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from service.helpdesk.base import TRANSCRIPT_CHARS, Helpdesk, HelpdeskError, Thread, Ticket
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


def ticket(handoff_id: str = "a" * 32, turns: int = 2, message: str = "Please call me") -> Ticket:
    transcript = tuple(
        (role, f"{role} turn {i}") for i in range(turns) for role in ("user", "assistant")
    )
    return Ticket(
        handoff_id, handoff_id[:8].upper(), "Carla", "carla@example.com", message, transcript
    )


def test_a_conversation_opens_with_the_transcript_then_the_request(subject: Subject) -> None:
    thread = subject.helpdesk.open(ticket())
    first, request = subject.read(thread)
    assert request == "Please call me"
    assert first.index("Customer: user turn 0") < first.index("Bot: assistant turn 1")
    assert "AAAAAAAA" in first  # the reference the customer was given


def test_without_a_conversation_only_the_request_is_written(subject: Subject) -> None:
    thread = subject.helpdesk.open(ticket(turns=0))
    assert subject.read(thread) == ["Please call me"]


def test_a_long_conversation_keeps_its_newest_turns(subject: Subject) -> None:
    thread = subject.helpdesk.open(ticket(turns=400))
    first = subject.read(thread)[0]
    assert len(first) <= TRANSCRIPT_CHARS + 200
    assert "assistant turn 399" in first and "user turn 0\n" not in first


def test_messages_go_to_their_own_conversation_in_order(subject: Subject) -> None:
    one = subject.helpdesk.open(ticket("a" * 32))
    two = subject.helpdesk.open(ticket("b" * 32, message="Other request"))
    assert one != two
    subject.helpdesk.post(one, "Hello?")
    subject.helpdesk.post(one, "Still there?")
    assert subject.read(one)[-2:] == ["Hello?", "Still there?"]
    assert subject.read(two)[-1] == "Other request"


def test_a_failing_helpdesk_raises_helpdesk_error_and_recovers(subject: Subject) -> None:
    thread = subject.helpdesk.open(ticket())
    subject.fail_next(1)
    with pytest.raises(HelpdeskError):
        subject.helpdesk.post(thread, "lost?")
    subject.helpdesk.post(thread, "again")
    assert subject.read(thread)[-1] == "again"
    assert "lost?" not in subject.read(thread)
    subject.fail_next(1)
    with pytest.raises(HelpdeskError):
        subject.helpdesk.open(ticket("c" * 32))


def test_an_unknown_conversation_is_a_helpdesk_error(subject: Subject) -> None:
    thread = subject.helpdesk.open(ticket())
    with pytest.raises(HelpdeskError):
        subject.helpdesk.post(Thread("999999", thread.contact), "to nowhere")
    with pytest.raises(HelpdeskError):
        subject.helpdesk.post(Thread(thread.conversation, "someone-else"), "to nowhere")
