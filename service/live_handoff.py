"""A person takes over a conversation: the agent claims a handoff request, replies, hands
the conversation back to the bot or closes it. While a person holds it ("claimed"), the
bot is silent and what the customer writes goes to the agent; the agent's replies reach
the customer's page (GET /v1/sessions/<id>/events) and stay in the chat history, so a
reload shows them. A reply to a customer whose page stopped listening is mailed to the
address they gave. Everything is in the database, so every replica sees it. Blocking
calls; the callers run them in the chat store's guarded threads."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa

from service.db.tables import (
    as_utc,
    chat_messages,
    chat_sessions,
    handoff_messages,
    handoff_requests,
)
from service.handoff import reference
from service.helpdesk.base import AgentReply
from service.helpdesk.outbox import enqueue
from service.privacy import mask_pii

Status = Literal["open", "claimed", "closed", "handed_back"]
ACTIVE: tuple[Status, ...] = ("open", "claimed")
AWAY_AFTER = timedelta(seconds=45)  # no event stream for this long: the customer has left


class HandoffStateError(ValueError):
    """The handoff is not in a state that allows this (another agent holds it, it is
    closed); the message says which."""


@dataclass(frozen=True)
class LiveMessage:
    id: int
    author: str  # agent, customer
    text: str
    at: datetime
    agent: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "author": self.author,
            "text": self.text,
            "at": self.at.isoformat(),
            "agent": self.agent,
        }


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class HelpdeskReply:
    """An agent's reply that came from the helpdesk, kept: for the mail to a customer
    who has left."""

    handoff_id: str
    message: LiveMessage
    customer_left: bool


class LiveHandoffs:
    def __init__(
        self,
        engine: sa.Engine,
        public: frozenset[str] = frozenset(),
        wake_outbox: Callable[[], None] = lambda: None,
    ) -> None:
        self._engine = engine
        # The history masks every answer (the shop's own contact details excepted), a
        # person's as the bot's: the page shows the reply as sent, the history masked.
        self._public = public
        # A customer's message for the helpdesk was recorded: its worker sends it now.
        self._wake_outbox = wake_outbox

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    # -- the customer's side -------------------------------------------------------------

    def holder(self, session_id: str) -> str | None:
        """The agent holding this conversation, or None when the bot answers."""
        with self._engine.connect() as conn:
            row = self._active(conn, session_id)
        return str(row.agent) if row is not None else None

    def from_customer(self, session_id: str, text: str) -> None:
        """A message the customer wrote while a person holds the conversation."""
        with self._engine.begin() as conn:
            found = self._active(conn, session_id)
            if found is None:
                raise HandoffStateError("no person holds this conversation")
            masked = mask_pii(text)
            conn.execute(
                handoff_messages.insert().values(
                    handoff_id=found.id,
                    session_id=session_id,
                    author="customer",
                    text=masked,
                    created_at=_now(),
                )
            )
            if found.helpdesk:  # sent on by the outbox, in the same transaction
                enqueue(conn, found.id, "message", masked, _now())
        if found.helpdesk:
            self._wake_outbox()

    def latest(self, session_id: str) -> int:
        """The last agent message's number: a new event stream starts after it (what came
        before is in the chat history the page shows)."""
        with self._engine.connect() as conn:
            found = conn.execute(
                sa.select(sa.func.max(handoff_messages.c.id))
                .where(handoff_messages.c.session_id == session_id)
                .where(handoff_messages.c.author == "agent")
            ).scalar()
        return int(found or 0)

    def seen(self, session_id: str) -> None:
        """The customer's page is listening (a reply is then not mailed)."""
        with self._engine.begin() as conn:
            conn.execute(
                handoff_requests.update()
                .where(handoff_requests.c.session_id == session_id)
                .where(handoff_requests.c.status.in_(ACTIVE))
                .values(customer_seen_at=_now())
            )

    def after(self, session_id: str, after_id: int) -> list[LiveMessage]:
        """The agent's messages to this conversation after after_id (the event stream)."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(handoff_messages)
                .where(handoff_messages.c.session_id == session_id)
                .where(handoff_messages.c.author == "agent")
                .where(handoff_messages.c.id > after_id)
                .order_by(handoff_messages.c.id)
                .limit(50)
            ).all()
        return [_message(r) for r in rows]

    # -- the agent's side -----------------------------------------------------------------

    def waiting(self) -> list[dict[str, Any]]:
        """Open and claimed handoffs, oldest first, for the agents' inbox."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(handoff_requests)
                .where(handoff_requests.c.status.in_(ACTIVE))
                .where(handoff_requests.c.helpdesk.is_(None))  # those are answered there
                .order_by(handoff_requests.c.created_at)
                .limit(200)
            ).all()
        return [_summary(r) for r in rows]

    def detail(self, handoff_id: str) -> dict[str, Any] | None:
        """A handoff with the conversation before it and the messages since."""
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(handoff_requests).where(handoff_requests.c.id == handoff_id)
            ).first()
            if row is None:
                return None
            messages = conn.execute(
                sa.select(handoff_messages)
                .where(handoff_messages.c.handoff_id == handoff_id)
                .order_by(handoff_messages.c.id)
            ).all()
        return {
            **_summary(row),
            "message": row.message,
            "conversation": row.conversation or [],
            "messages": [_message(m).as_dict() for m in messages],
        }

    def claim(self, handoff_id: str, agent: str) -> None:
        with self._engine.begin() as conn:
            done = conn.execute(
                handoff_requests.update()
                .where(handoff_requests.c.id == handoff_id)
                .where(handoff_requests.c.helpdesk.is_(None))
                .where(
                    (handoff_requests.c.status == "open")
                    | (
                        (handoff_requests.c.status == "claimed")
                        & (handoff_requests.c.agent == agent)
                    )
                )
                .values(status="claimed", agent=agent, claimed_at=_now())
            ).rowcount
        if not done:
            raise HandoffStateError(self._why(handoff_id))

    def reply(self, handoff_id: str, agent: str, text: str) -> tuple[LiveMessage, bool]:
        """The agent's reply: to the page, to the history, and whether the customer has
        left (their page stopped listening): then it is also to be mailed."""
        with self._engine.begin() as conn:
            row = conn.execute(
                sa.select(handoff_requests)
                .where(handoff_requests.c.id == handoff_id)
                .where(handoff_requests.c.status == "claimed")
                .where(handoff_requests.c.agent == agent)
            ).first()
            if row is None:
                raise HandoffStateError(self._why(handoff_id, conn))
            return self._agent_message(conn, row, agent, text)

    def from_helpdesk(self, helpdesk: str, reply: AgentReply) -> HelpdeskReply | None:
        """An agent's reply written in the helpdesk, to the page and the history as a
        console agent's; None when no active handoff has that conversation, or the reply
        was taken already (a webhook delivered twice)."""
        with self._engine.begin() as conn:
            row = conn.execute(
                sa.select(handoff_requests)
                .where(handoff_requests.c.helpdesk == helpdesk)
                .where(handoff_requests.c.external_id == reply.conversation)
                .where(handoff_requests.c.status.in_(ACTIVE))
                .order_by(handoff_requests.c.created_at.desc())
                .limit(1)
            ).first()
            if row is None or _has_reply(conn, row.id, reply.message_id):
                return None
            conn.execute(
                handoff_requests.update()
                .where(handoff_requests.c.id == row.id)
                .values(status="claimed", agent=reply.agent)
            )
            message, left = self._agent_message(
                conn, row, reply.agent, reply.text, reply.message_id
            )
        return HelpdeskReply(row.id, message, left)

    def resolved_there(self, helpdesk: str, conversation: str) -> bool:
        """The helpdesk's conversation was resolved: closed here, the bot answers again."""
        with self._engine.begin() as conn:
            done = conn.execute(
                handoff_requests.update()
                .where(handoff_requests.c.helpdesk == helpdesk)
                .where(handoff_requests.c.external_id == conversation)
                .where(handoff_requests.c.status.in_(ACTIVE))
                .values(status="closed", closed_at=_now())
            ).rowcount
        return bool(done)

    def _agent_message(
        self, conn: sa.Connection, row: Any, agent: str, text: str, external_id: str | None = None
    ) -> tuple[LiveMessage, bool]:
        now = _now()
        new_id = conn.execute(
            handoff_messages.insert().values(
                handoff_id=row.id,
                session_id=row.session_id,
                author="agent",
                agent=agent,
                text=text,
                created_at=now,
                external_id=external_id,
            )
        ).inserted_primary_key
        assert new_id is not None
        if row.session_id:
            _to_history(conn, row.session_id, mask_pii(text, self._public), now)
        seen = as_utc(row.customer_seen_at)
        left = seen is None or now - seen > AWAY_AFTER
        return LiveMessage(int(new_id[0]), "agent", text, now, agent), left

    def mark_mailed(self, message_id: int) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                handoff_messages.update()
                .where(handoff_messages.c.id == message_id)
                .values(mailed_at=_now())
            )

    def release(self, handoff_id: str, agent: str, status: Status) -> None:
        """Hand back to the bot, or close."""
        with self._engine.begin() as conn:
            done = conn.execute(
                handoff_requests.update()
                .where(handoff_requests.c.id == handoff_id)
                .where(handoff_requests.c.status.in_(ACTIVE))
                .where((handoff_requests.c.agent == agent) | (handoff_requests.c.agent.is_(None)))
                .values(status=status, closed_at=_now())
            ).rowcount
        if not done:
            raise HandoffStateError(self._why(handoff_id))

    def contact(self, handoff_id: str) -> tuple[str, str] | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(handoff_requests.c.name, handoff_requests.c.email).where(
                    handoff_requests.c.id == handoff_id
                )
            ).first()
        return (row.name, row.email) if row is not None else None

    def _active(self, conn: sa.Connection, session_id: str) -> Any:
        """The claimed handoff of this conversation (its id and agent), or None."""
        return conn.execute(
            sa.select(handoff_requests.c.id, handoff_requests.c.agent, handoff_requests.c.helpdesk)
            .where(handoff_requests.c.session_id == session_id)
            .where(handoff_requests.c.status == "claimed")
            .order_by(handoff_requests.c.created_at.desc())
            .limit(1)
        ).first()

    def _why(self, handoff_id: str, conn: sa.Connection | None = None) -> str:
        def read(c: sa.Connection) -> Any:
            return c.execute(
                sa.select(handoff_requests.c.status, handoff_requests.c.agent).where(
                    handoff_requests.c.id == handoff_id
                )
            ).first()

        if conn is not None:
            row = read(conn)
        else:
            with self._engine.connect() as c:
                row = read(c)
        if row is None:
            return "no such handoff"
        if row.status == "claimed":
            return f"{row.agent} holds this conversation"
        return f"this handoff is {row.status.replace('_', ' ')}"


def first_replies() -> sa.Subquery:
    """Each handoff's first agent message: (handoff_id, first: its id, at: its time)."""
    hm = handoff_messages
    return (
        sa.select(
            hm.c.handoff_id,
            sa.func.min(hm.c.id).label("first"),
            sa.func.min(hm.c.created_at).label("at"),
        )
        .where(hm.c.author == "agent")
        .group_by(hm.c.handoff_id)
        .subquery()
    )


def _has_reply(conn: sa.Connection, handoff_id: str, external_id: str) -> bool:
    return (
        conn.execute(
            sa.select(handoff_messages.c.id)
            .where(handoff_messages.c.handoff_id == handoff_id)
            .where(handoff_messages.c.external_id == external_id)
        ).first()
        is not None
    )


def _to_history(conn: sa.Connection, session_id: str, text: str, at: datetime) -> None:
    exists = conn.execute(
        sa.select(chat_sessions.c.id).where(chat_sessions.c.id == session_id)
    ).first()
    if exists is None:
        conn.execute(chat_sessions.insert().values(id=session_id, created_at=at))
    conn.execute(
        chat_messages.insert().values(
            id=uuid.uuid4().hex,
            session_id=session_id,
            role="assistant",
            content=text,
            mode="human",
            created_at=at,
        )
    )


def _message(r: Any) -> LiveMessage:
    return LiveMessage(
        int(r.id), str(r.author), str(r.text), as_utc(r.created_at) or r.created_at, r.agent
    )


def _summary(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "reference": reference(r.id),  # as the customer was given it
        "name": r.name,
        "status": r.status,
        "agent": r.agent,
        "created_at": (as_utc(r.created_at) or r.created_at).isoformat(),
        "session_id": r.session_id,
    }
