"""Requests to talk to a person: stored in the database with the conversation they came
from, and mailed to the shop's support address when SMTP is configured."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa

from service.chat.store import StoredMessage
from service.config import HandoffSettings
from service.db.guard import DatabaseGuard
from service.db.tables import handoff_requests

log = logging.getLogger("faqbot.handoff")


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
    def __init__(self, engine: sa.Engine, guard: DatabaseGuard, settings: HandoffSettings) -> None:
        self._engine = engine
        self._guard = guard
        self._settings = settings

    async def submit(self, request: HandoffRequest) -> bool:
        """Stores the request (DatabaseUnavailable if it cannot), then mails it when SMTP
        is set. Returns whether it was mailed; a failed mail is logged, the request kept."""
        await self._guard.run(self._store, request)
        if not self._settings.smtp_host:
            return False
        try:
            await asyncio.wait_for(
                asyncio.to_thread(self._mail, request), self._settings.timeout_s + 1
            )
        except (OSError, smtplib.SMTPException, TimeoutError) as exc:
            log.warning("handoff %s stored but not mailed: %s", request.id, exc)
            return False
        await self._guard.run(self._mark_mailed, request.id)
        return True

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
                )
            )

    def _mark_mailed(self, request_id: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                handoff_requests.update()
                .where(handoff_requests.c.id == request_id)
                .values(mailed_at=datetime.now(UTC))
            )

    def _mail(self, r: HandoffRequest) -> None:
        s = self._settings
        mail = EmailMessage()
        mail["From"] = s.mail_from
        mail["To"] = s.mail_to
        mail["Reply-To"] = r.email
        mail["Subject"] = f"Help request from {r.name} ({r.id[:8]})"
        mail.set_content(_mail_body(r))
        with smtplib.SMTP(s.smtp_host or "", s.smtp_port, timeout=s.timeout_s) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password or "")
            smtp.send_message(mail)

    def purge(self, older_than: datetime) -> int:
        with self._engine.begin() as conn:
            return int(
                conn.execute(
                    handoff_requests.delete().where(handoff_requests.c.created_at < older_than)
                ).rowcount
            )


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
