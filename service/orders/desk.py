"""Confirmed requests, recorded and delivered to the shop: stored first (nothing is lost
when the webhook or the mail is down), then sent by the worker until one attempt
succeeds, each attempt with a timeout, waiting longer after each failure
(requests.retry_s, doubling, at most an hour) and giving up after requests.max_attempts
as "failed", which the console shows. Every step is written to order_request_log.

The webhook gets the request as JSON with X-Faqbot-Request (its id: a receiver drops
what it has seen, as a retry after a lost answer may repeat it) and X-Faqbot-Signature:
``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with requests.webhook_secret>``."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from service.config import HandoffSettings, RequestSettings
from service.db.tables import as_utc, order_request_log, order_requests
from service.delivery_worker import claim, retry_wait
from service.mail import send_mail
from service.orders.requests import OrderRequest

log = logging.getLogger("faqbot.orders")
BATCH = 20


@dataclass(frozen=True)
class Recorded:
    id: str
    reference: str


def _now() -> datetime:
    return datetime.now(UTC)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class RequestDesk:
    def __init__(
        self,
        engine: sa.Engine,
        settings: RequestSettings,
        mail: HandoffSettings,
        *,
        clock: Callable[[], datetime] = _now,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._mail = mail
        self._clock = clock
        self._http = httpx.Client(timeout=settings.webhook_timeout_s, transport=transport)

    @property
    def delivers(self) -> bool:
        return bool(self._settings.webhook_url) or (
            self._settings.email and bool(self._mail.smtp_host)
        )

    def record(self, session_id: str, request: OrderRequest) -> Recorded:
        """Stores the confirmed request (blocking; the caller guards it)."""
        now = self._clock()
        rid = uuid.uuid4().hex
        reference = f"R-{secrets.token_hex(3).upper()}"
        with self._engine.begin() as conn:
            conn.execute(
                order_requests.insert().values(
                    id=rid,
                    reference=reference,
                    kind=request.kind,
                    order_number=request.order_number,
                    session_id=session_id,
                    details=request.as_dict(),
                    created_at=now,
                    delivery="pending" if self.delivers else "kept",
                    attempts=0,
                    next_attempt_at=now,
                )
            )
            _log(conn, rid, now, "created", request.kind)
        return Recorded(rid, reference)

    def deliver_due(self) -> int:
        """One pass of the worker: every request due, tried once. Returns how many were
        delivered. A request is claimed before it is sent, so two replicas do not send it
        at the same moment (a receiver still drops repeats by X-Faqbot-Request)."""
        now = self._clock()
        with self._engine.connect() as conn:
            due = conn.execute(
                sa.select(order_requests)
                .where(order_requests.c.delivery == "pending")
                .where(order_requests.c.next_attempt_at <= now)
                .order_by(order_requests.c.next_attempt_at)
                .limit(BATCH)
            ).all()
        delivered = 0
        for row in due:
            if self._claim(row, now):
                delivered += self._attempt(row, now)
        return delivered

    def _claim(self, row: Any, now: datetime) -> bool:
        lease = now + timedelta(seconds=self._settings.webhook_timeout_s * 4 + 30)
        return claim(self._engine, order_requests, order_requests.c.delivery, row, lease)

    def _attempt(self, row: Any, now: datetime) -> int:
        attempt = row.attempts + 1
        try:
            self._send(row, attempt)
        except Exception as exc:  # every failure is kept and retried, never raised
            self._failed(row.id, attempt, now, f"{type(exc).__name__}: {exc}"[:200])
            return 0
        with self._engine.begin() as conn:
            conn.execute(
                order_requests.update()
                .where(order_requests.c.id == row.id)
                .values(delivery="delivered", delivered_at=self._clock(), last_error=None)
            )
            _log(conn, row.id, self._clock(), "delivered", f"attempt {attempt}")
        return 1

    def _send(self, row: Any, attempt: int) -> None:
        payload = {
            "id": row.id,
            "reference": row.reference,
            "kind": row.kind,
            "order_number": row.order_number,
            "details": row.details,
            "created_at": (as_utc(row.created_at) or row.created_at).isoformat(),
            "attempt": attempt,
        }
        s = self._settings
        if s.webhook_url:
            body = json.dumps(payload, sort_keys=True).encode()
            secret = s.webhook_secret.get_secret_value() if s.webhook_secret else ""
            response = self._http.post(
                s.webhook_url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Faqbot-Request": row.id,
                    "X-Faqbot-Signature": signature(secret, int(time.time()), body),
                },
            )
            if not 200 <= response.status_code < 300:
                raise RuntimeError(f"the webhook answered HTTP {response.status_code}")
        if s.email and self._mail.smtp_host:
            subject = f"Order request {row.reference}: {row.kind} {row.order_number}"
            send_mail(self._mail, subject, json.dumps(payload, indent=2, sort_keys=True))

    def _failed(self, rid: str, attempt: int, now: datetime, error: str) -> None:
        s = self._settings
        gave_up = attempt >= s.max_attempts
        wait = retry_wait(s.retry_s, attempt)
        with self._engine.begin() as conn:
            conn.execute(
                order_requests.update()
                .where(order_requests.c.id == rid)
                .values(
                    delivery="failed" if gave_up else "pending",
                    next_attempt_at=now + timedelta(seconds=wait),
                    last_error=error,
                )
            )
            _log(conn, rid, now, "gave up" if gave_up else "failed", error)
        log.warning("order request %s: delivery %d failed: %s", rid[:8], attempt, error)

    def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        """For the console: the latest requests with their delivery state."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(order_requests).order_by(order_requests.c.created_at.desc()).limit(limit)
            ).all()
        return [
            {
                "id": r.id,
                "reference": r.reference,
                "kind": r.kind,
                "order_number": r.order_number,
                "details": r.details,
                "created_at": (as_utc(r.created_at) or r.created_at).isoformat(),
                "delivery": r.delivery,
                "attempts": r.attempts,
                "last_error": r.last_error,
            }
            for r in rows
        ]

    def close(self) -> None:
        self._http.close()


def _log(conn: sa.Connection, rid: str, at: datetime, event: str, detail: str) -> None:
    conn.execute(
        order_request_log.insert().values(request_id=rid, at=at, event=event, detail=detail)
    )
