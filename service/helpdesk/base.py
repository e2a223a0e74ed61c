"""The narrow interface in front of a helpdesk, and the values that cross it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

TRANSCRIPT_CHARS = 8000  # the newest turns are kept when a conversation is longer


class HelpdeskError(ConnectionError):
    """The helpdesk did not take the call (down, slow, refused). A ConnectionError, so
    the caller's retry rules treat it as they treat a database that is down."""


@dataclass(frozen=True)
class Ticket:
    """What opens a conversation at the helpdesk."""

    handoff_id: str  # faqbot's id: the contact's identifier there
    reference: str  # what the customer was given
    name: str
    email: str
    message: str  # what the customer wrote in the handoff form
    transcript: tuple[tuple[str, str], ...] = ()  # (user | assistant, text), oldest first


@dataclass(frozen=True)
class Thread:
    """The conversation opened at the helpdesk: its id and the contact's."""

    conversation: str
    contact: str


@dataclass(frozen=True)
class AgentReply:
    """An agent wrote to the customer in the helpdesk."""

    conversation: str
    message_id: str
    agent: str
    text: str


@dataclass(frozen=True)
class Resolved:
    """The helpdesk's conversation was resolved: the bot answers again."""

    conversation: str


HelpdeskEvent = AgentReply | Resolved


class Helpdesk(Protocol):
    """Opens conversations at a helpdesk and writes the customer's messages into them.
    Blocking calls, each with a timeout; every failure is a HelpdeskError."""

    name: str

    def open(self, ticket: Ticket) -> Thread:
        """A new conversation for the ticket's customer, still empty: the transcript and
        the request follow as messages (outbox.py), each sent once however often a later
        one fails, so a retry never opens a second conversation."""
        ...

    def post(self, thread: Thread, text: str) -> None:
        """A message into the conversation, as the customer's."""
        ...

    def close(self) -> None: ...


def transcript_text(ticket: Ticket) -> str | None:
    """The conversation with the bot as one message, for the agent who takes over; None
    when there was none. Long ones keep their newest turns."""
    if not ticket.transcript:
        return None
    lines = [
        f"{'Customer' if role == 'user' else 'Bot'}: {text}" for role, text in ticket.transcript
    ]
    while len(lines) > 1 and sum(len(line) + 1 for line in lines) > TRANSCRIPT_CHARS:
        lines.pop(0)
    head = f"Conversation with the bot before request {ticket.reference}:"
    return "\n".join([head, *lines])[: TRANSCRIPT_CHARS + len(head) + 1]
