"""What is to be sent to the helpdesk, kept in the database until the helpdesk took it.

A handoff for the helpdesk records an "open" (the conversation there); once it is open,
the transcript and the request follow as "message"s, and so does each message the
customer writes while the helpdesk holds the conversation. A failed message is retried
on its own: a retry never opens a second conversation, where an agent's reply would be
lost. Both are written in the transaction that stores
what caused them, so nothing is lost when the helpdesk is down. A worker sends them in
order, per handoff: a message waits until the conversation it belongs to is open there.
A failed send waits retry_s, then twice as long each time (at most an hour); after
max_attempts the handoff falls back to the console's inbox (and the request's mail), and
its messages stay readable there."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa

from service.config import HelpdeskSettings
from service.db.tables import as_utc, chat_messages, handoff_requests, helpdesk_outbox
from service.delivery_worker import claim, retry_wait
from service.helpdesk.base import Helpdesk, Thread, Ticket, transcript_text

log = logging.getLogger("faqbot.helpdesk")
Kind = Literal["open", "message"]
BATCH = 20
TRANSCRIPT_MESSAGES = 40


def _now() -> datetime:
    return datetime.now(UTC)


def enqueue(
    conn: sa.Connection, handoff_id: str, kind: Kind, text: str | None, at: datetime
) -> None:
    """Records what is to be sent, in the caller's transaction."""
    conn.execute(
        helpdesk_outbox.insert().values(
            handoff_id=handoff_id,
            kind=kind,
            text=text,
            created_at=at,
            state="pending",
            attempts=0,
            next_attempt_at=at,
        )
    )


class HelpdeskOutbox:
    def __init__(
        self,
        engine: sa.Engine,
        helpdesk: Helpdesk,
        settings: HelpdeskSettings,
        *,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._engine = engine
        self._helpdesk = helpdesk
        self._settings = settings
        self._clock = clock

    def deliver_due(self) -> int:
        """One pass of the worker: what is due, in order, each tried once (and what an
        opened conversation queued, at once). Returns how many were sent. An item is
        claimed before it is sent (a lease), so two replicas do not send it at once."""
        sent = 0
        for _ in range(3):  # a conversation opened in a pass queues its first messages
            done, opened = self._pass()
            sent += done
            if not opened:
                break
        return sent

    def _pass(self) -> tuple[int, bool]:
        now = self._clock()
        with self._engine.connect() as conn:
            due = conn.execute(
                sa.select(helpdesk_outbox)
                .where(helpdesk_outbox.c.state == "pending")
                .where(helpdesk_outbox.c.next_attempt_at <= now)
                .order_by(helpdesk_outbox.c.id)
                .limit(BATCH)
            ).all()
        sent, opened = 0, False
        waiting: set[str] = set()  # handoffs with an earlier item not sent yet
        for row in due:
            if row.handoff_id in waiting or self._behind(row) or not self._claim(row, now):
                waiting.add(row.handoff_id)
                continue
            if self._attempt(row, now):
                sent += 1
                opened = opened or row.kind == "open"
            else:
                waiting.add(row.handoff_id)
        return sent, opened

    def counts(self) -> dict[str, int]:
        """Items waiting (pending) and given up (failed), for /metrics."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(helpdesk_outbox.c.state, sa.func.count())
                .where(helpdesk_outbox.c.state.in_(("pending", "failed")))
                .group_by(helpdesk_outbox.c.state)
            ).all()
        return {str(state): int(n) for state, n in rows}

    def pending(self, handoff_id: str) -> list[dict[str, Any]]:
        """The items of one handoff and their state (for the console and the tests)."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(helpdesk_outbox)
                .where(helpdesk_outbox.c.handoff_id == handoff_id)
                .order_by(helpdesk_outbox.c.id)
            ).all()
        return [
            {
                "kind": r.kind,
                "state": r.state,
                "attempts": r.attempts,
                "last_error": r.last_error,
                "next_attempt_at": (as_utc(r.next_attempt_at) or r.next_attempt_at).isoformat(),
            }
            for r in rows
        ]

    def _behind(self, row: Any) -> bool:
        """An earlier item of the same handoff is still to be sent (not due yet)."""
        with self._engine.connect() as conn:
            earlier = conn.execute(
                sa.select(helpdesk_outbox.c.id)
                .where(helpdesk_outbox.c.handoff_id == row.handoff_id)
                .where(helpdesk_outbox.c.state == "pending")
                .where(helpdesk_outbox.c.id < row.id)
                .limit(1)
            ).first()
        return earlier is not None

    def _claim(self, row: Any, now: datetime) -> bool:
        lease = now + timedelta(seconds=self._settings.timeout_s * 8 + 30)
        return claim(self._engine, helpdesk_outbox, helpdesk_outbox.c.state, row, lease)

    def _attempt(self, row: Any, now: datetime) -> bool:
        attempt = row.attempts + 1
        try:
            if row.kind == "open":
                ticket = self._ticket(row.handoff_id)
                self._opened(row, ticket, self._helpdesk.open(ticket))
            else:
                self._helpdesk.post(self._thread(row.handoff_id), row.text or "")
                self._mark(row.id, "sent", None)
        except Exception as exc:  # every failure is kept and retried, never raised
            self._failed(row, attempt, now, f"{type(exc).__name__}: {exc}"[:200])
            return False
        return True

    def _ticket(self, handoff_id: str) -> Ticket:
        """The request with the conversation as it is now: the turns the bot answered
        after the request (while the helpdesk was not reachable) are in it too."""
        # imported here: service.handoff records its requests through this module
        from service.handoff import reference

        with self._engine.connect() as conn:
            r = conn.execute(
                sa.select(handoff_requests).where(handoff_requests.c.id == handoff_id)
            ).one()
            turns: list[tuple[str, str]] = []
            if r.session_id:
                rows = conn.execute(
                    sa.select(chat_messages.c.role, chat_messages.c.content)
                    .where(chat_messages.c.session_id == r.session_id)
                    .order_by(chat_messages.c.created_at.desc())
                    .limit(TRANSCRIPT_MESSAGES)
                ).all()
                turns = [(m.role, m.content) for m in reversed(rows)]
            if not turns:
                turns = [(m["role"], m["content"]) for m in r.conversation or []]
        return Ticket(r.id, reference(r.id), r.name, r.email, r.message, tuple(turns))

    def _thread(self, handoff_id: str) -> Thread:
        with self._engine.connect() as conn:
            r = conn.execute(
                sa.select(
                    handoff_requests.c.external_id, handoff_requests.c.external_contact
                ).where(handoff_requests.c.id == handoff_id)
            ).one()
        if not r.external_id or not r.external_contact:
            raise LookupError("the conversation is not open at the helpdesk")
        return Thread(r.external_id, r.external_contact)

    def _opened(self, row: Any, ticket: Ticket, thread: Thread) -> None:
        """The helpdesk holds the conversation now: the bot is silent until it lets go.
        The transcript and the request are queued first, before anything the customer
        writes next."""
        now = self._clock()
        with self._engine.begin() as conn:
            transcript = transcript_text(ticket)
            if transcript:
                enqueue(conn, row.handoff_id, "message", transcript, now)
            enqueue(conn, row.handoff_id, "message", ticket.message, now)
            conn.execute(
                handoff_requests.update()
                .where(handoff_requests.c.id == row.handoff_id)
                .values(external_id=thread.conversation, external_contact=thread.contact)
            )
            conn.execute(
                handoff_requests.update()
                .where(handoff_requests.c.id == row.handoff_id)
                .where(handoff_requests.c.status == "open")
                .values(status="claimed", agent=self._settings.agent_name, claimed_at=now)
            )
            conn.execute(
                helpdesk_outbox.update()
                .where(helpdesk_outbox.c.id == row.id)
                .values(state="sent", last_error=None)
            )

    def _mark(self, item_id: int, state: str, error: str | None) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                helpdesk_outbox.update()
                .where(helpdesk_outbox.c.id == item_id)
                .values(state=state, last_error=error)
            )

    def _failed(self, row: Any, attempt: int, now: datetime, error: str) -> None:
        s = self._settings
        gave_up = attempt >= s.max_attempts
        wait = retry_wait(s.retry_s, attempt)
        with self._engine.begin() as conn:
            conn.execute(
                helpdesk_outbox.update()
                .where(helpdesk_outbox.c.id == row.id)
                .values(
                    state="failed" if gave_up else "pending",
                    next_attempt_at=now + timedelta(seconds=wait),
                    last_error=error,
                )
            )
            if gave_up:
                _fall_back(conn, row.handoff_id, error)
        log.warning(
            "helpdesk %s for handoff %s: attempt %d failed%s: %s",
            row.kind,
            row.handoff_id[:8],
            attempt,
            " (given up)" if gave_up else "",
            error,
        )


def _fall_back(conn: sa.Connection, handoff_id: str, error: str) -> None:
    """The helpdesk would not take it: the console's agents get the handoff (what the
    customer wrote stays in it), and what else was waiting for it is given up too."""
    conn.execute(
        helpdesk_outbox.update()
        .where(helpdesk_outbox.c.handoff_id == handoff_id)
        .where(helpdesk_outbox.c.state == "pending")
        .values(state="failed", last_error=f"given up with an earlier item: {error}"[:200])
    )
    opened = conn.execute(
        sa.select(handoff_requests.c.external_id).where(handoff_requests.c.id == handoff_id)
    ).scalar()
    if opened is None:
        conn.execute(
            handoff_requests.update()
            .where(handoff_requests.c.id == handoff_id)
            .values(helpdesk=None)
        )
