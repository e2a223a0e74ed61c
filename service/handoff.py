"""Requests to talk to a person: stored in the database with the conversation they came
from, and mailed to the shop's support address when SMTP is configured.

What is stored and mailed is masked as chat history is (service/privacy.py): the
customer's contact address has its own field, and a street, phone number or postal code
typed into the message is not kept. A second request from the same conversation or the
same address within `repeat_minutes` is the first one again (not stored or mailed twice),
and mails stop at `mails_per_hour` (the requests are still stored for the console)."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from service.chat.store import StoredMessage
from service.config import HandoffSettings
from service.db.guard import DatabaseGuard
from service.db.tables import handoff_messages, handoff_requests, helpdesk_outbox
from service.helpdesk.outbox import enqueue
from service.mail import send_mail
from service.privacy import mask_pii

log = logging.getLogger("faqbot.handoff")


@dataclass(frozen=True)
class Submitted:
    """What the customer is told: the request's reference, whether it was mailed, and
    whether it repeats one already received."""

    reference: str
    mailed: bool
    repeated: bool = False


@dataclass(frozen=True)
class HandoffRequest:
    name: str
    email: str
    message: str
    session_id: str | None
    conversation: tuple[StoredMessage, ...] = ()
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class HandoffDesk:
    def __init__(
        self,
        engine: sa.Engine,
        guard: DatabaseGuard,
        settings: HandoffSettings,
        *,
        helpdesk: str | None = None,
        wake_outbox: Callable[[], None] = lambda: None,
    ) -> None:
        self._engine = engine
        self._guard = guard
        self._settings = settings
        # Set (chatwoot): each new request also opens a conversation there, sent by the
        # helpdesk outbox's worker, which wake_outbox starts at once.
        self._helpdesk = helpdesk
        self._wake_outbox = wake_outbox

    async def submit(self, request: HandoffRequest) -> Submitted:
        """Stores the request (DatabaseUnavailable if it cannot), then mails it when SMTP
        is set and the hour's mails allow. A failed mail is logged, the request kept."""
        earlier = await self._guard.run(self._recent, request)
        if earlier is not None:
            return Submitted(reference(earlier.id), earlier.mailed_at is not None, True)
        masked = _masked(request)
        await self._guard.run(self._store, masked)
        if self._helpdesk:
            self._wake_outbox()
        ref = reference(request.id)
        if not self._settings.smtp_host:
            return Submitted(ref, False)
        if await self._guard.run(self._mails_last_hour) >= self._settings.mails_per_hour:
            log.warning("handoff %s stored, not mailed: mails_per_hour reached", request.id)
            return Submitted(ref, False)
        try:
            await asyncio.wait_for(
                asyncio.to_thread(self._mail, masked), self._settings.timeout_s + 1
            )
        except (OSError, smtplib.SMTPException, TimeoutError, ValueError) as exc:
            # ValueError: a header the mail library refuses (a name the API let through)
            log.warning("handoff %s stored but not mailed: %s", request.id, exc)
            return Submitted(ref, False)
        await self._guard.run(self._mark_mailed, request.id)
        return Submitted(ref, True)

    def _recent(self, r: HandoffRequest) -> Any:
        """The same conversation's (or, without one, the same address's) request of the
        last repeat_minutes, if any."""
        minutes = self._settings.repeat_minutes
        if minutes == 0:
            return None
        c = handoff_requests.c
        same = c.session_id == r.session_id if r.session_id else c.email == r.email
        since = r.created_at - timedelta(minutes=minutes)
        with self._engine.connect() as conn:
            return conn.execute(
                sa.select(c.id, c.mailed_at)
                .where(same, c.created_at >= since)
                .order_by(c.created_at.desc())
                .limit(1)
            ).first()

    def _mails_last_hour(self) -> int:
        since = datetime.now(UTC) - timedelta(hours=1)
        with self._engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(handoff_requests)
                    .where(handoff_requests.c.mailed_at >= since)
                ).scalar_one()
            )

    def _store(self, r: HandoffRequest) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                handoff_requests.insert().values(
                    id=r.id,
                    session_id=r.session_id,
                    name=r.name,
                    email=r.email,
                    message=r.message,
                    conversation=[asdict(m) for m in r.conversation],
                    created_at=r.created_at,
                    helpdesk=self._helpdesk,
                )
            )
            if self._helpdesk:
                enqueue(conn, r.id, "open", None, r.created_at)

    def _mark_mailed(self, request_id: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                handoff_requests.update()
                .where(handoff_requests.c.id == request_id)
                .values(mailed_at=datetime.now(UTC))
            )

    def _mail(self, r: HandoffRequest) -> None:
        subject = f"Help request from {r.name} ({r.id[:8]})"
        send_mail(self._settings, subject, _mail_body(r), reply_to=r.email)

    def purge(self, older_than: datetime) -> int:
        """Requests older than the cut-off, the messages written in them by then, and
        what was sent (or given up) for the helpdesk by then; what still waits to be
        sent stays."""
        with self._engine.begin() as conn:
            conn.execute(
                handoff_messages.delete().where(handoff_messages.c.created_at < older_than)
            )
            conn.execute(
                helpdesk_outbox.delete()
                .where(helpdesk_outbox.c.created_at < older_than)
                .where(helpdesk_outbox.c.state != "pending")
            )
            return int(
                conn.execute(
                    handoff_requests.delete().where(handoff_requests.c.created_at < older_than)
                ).rowcount
            )


def reference(request_id: str) -> str:
    """The short reference the customer is given."""
    return request_id[:8].upper()


def _masked(r: HandoffRequest) -> HandoffRequest:
    """The request as it is kept and mailed: the message and the conversation masked
    (history is masked already; masking is idempotent), the contact in its own field."""
    conversation = tuple(replace(m, content=mask_pii(m.content)) for m in r.conversation)
    return replace(r, message=mask_pii(r.message), conversation=conversation)


def _mail_body(r: HandoffRequest) -> str:
    lines: list[Any] = [
        f"{r.name} <{r.email}> asks for help:",
        "",
        r.message,
        "",
        f"Request {r.id}, {r.created_at:%Y-%m-%d %H:%M} UTC, session {r.session_id or '-'}",
    ]
    if r.conversation:
        lines += ["", "The conversation so far:"]
        lines += [
            f"{'Customer' if m.role == 'user' else 'Bot'}: {m.content}" for m in r.conversation
        ]
    return "\n".join(lines)
