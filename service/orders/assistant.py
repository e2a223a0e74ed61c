"""The order-lookup turn of a conversation. The code, not the model, decides what may be
shown: order details only after the order number and its email (or postal code) were
given in the same session; nothing before that reveals whether an order exists.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

from service.config import DatabaseSettings, OrderSettings
from service.db.guard import DatabaseGuard, DatabaseUnavailable, guard_for
from service.orders.attempts import AttemptCounter, Count, Scope, SqlAttemptCounter
from service.orders.extract import (
    OrderNumbers,
    Topic,
    find_email,
    find_postal_code,
    follow_up_topic,
    mentions_orders,
)
from service.orders.repository import AccessState, OrderFacts, OrderRepository
from service.orders.request_turn import RequestTurn, english
from service.orders.requests import Kind, answer_to_confirm, asked_kind
from service.orders.source import OrderSource
from service.orders.wording import return_eligibility
from service.texts import phrase

log = logging.getLogger("faqbot.orders")
T = TypeVar("T")

Outcome = Literal[
    "facts",
    "ask_contact",
    "not_verified",
    "locked",
    "order_locked",
    "rate_limited",
    "unavailable",
    "request",  # about a request (key: which text): asked to confirm, recorded, refused
]


def _english(key: str, contact: str = "") -> str:
    """The order flow's own reply in English (the API's error detail too); the chat
    words it in the customer's language from the same catalogue (service/texts.py)."""
    return phrase(key, "en", contact=contact) or key


@dataclass(frozen=True)
class OrderReply:
    outcome: Outcome
    text: str
    facts: OrderFacts | None = None
    topic: Topic | None = None  # a follow-up's question about the verified order
    key: str | None = None  # the catalogue text of a request reply, with its values
    values: dict[str, str] = field(default_factory=dict)
    confirm: bool = False  # the page offers Yes and No


def _now() -> datetime:
    return datetime.now(UTC)


class OrderAssistant:
    def __init__(
        self,
        repository: OrderRepository,
        settings: OrderSettings,
        *,
        counter: AttemptCounter | None = None,
        guard: DatabaseGuard | None = None,
        contact: str = "our customer service team",
        clock: Callable[[], datetime] = _now,
        requests: RequestTurn | None = None,
    ) -> None:
        self._repo = repository
        self._requests = requests  # cancel, return, a new address (None: not offered)
        self._contact = contact
        self._settings = settings
        self._counter = counter or SqlAttemptCounter(
            repository.engine, self._window_s(settings.failure_window_minutes)
        )
        self._guard = guard or guard_for("orders", DatabaseSettings(), settings.db_timeout_s)
        self._order_locked = _english("order_locked", contact)
        self.numbers = OrderNumbers.of(settings)  # the shop's order numbering
        self._clock = clock

    @property
    def source(self) -> OrderSource:
        return self._repo.source

    @staticmethod
    def _window_s(minutes: int) -> float:
        return minutes * 60.0

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._guard.run(fn, *args)

    async def ping(self) -> None:
        await self._db(self._repo.ping)

    async def handle_message(self, session_id: str, message: str, client: str) -> OrderReply | None:
        """The reply to an order question, or None when the message is not one (the FAQ
        answers it). An order number, or contact details for a pending order, or a
        question about the order already verified in this session make it one."""
        numbers = self.numbers.find(message)
        email, postal = find_email(message), find_postal_code(message)
        topic = follow_up_topic(message) if not numbers else None
        kind = asked_kind(message) if self._requests is not None else None
        answering = self._requests is not None and answer_to_confirm(message) is not None
        found = numbers or email or postal or topic or kind or answering
        if not (found or mentions_orders(message)):
            return None  # plainly an FAQ question: no database round trip
        try:
            state = await self._db(self._repo.access, session_id)
        except DatabaseUnavailable:
            if numbers:
                return OrderReply("unavailable", _english("unavailable"))
            return None
        now = self._clock()
        if not numbers and (kind or state.pending_request is not None):
            request = await self._request_reply(session_id, state, kind, message, now)
            if request is not None:
                return request
        if not numbers:
            if state.pending_order and (email or postal):
                numbers = [state.pending_order]
            elif state.verified(None, now) and (topic or mentions_orders(message)):
                numbers = [str(state.verified_order)]
            else:
                return None  # nothing verified (or no longer): the FAQ answers
        try:
            reply = await self._lookup(session_id, state, numbers[0], email, postal, client)
        except DatabaseUnavailable:
            return OrderReply("unavailable", _english("unavailable"))
        return replace(reply, topic=topic) if reply.facts is not None else reply

    async def _request_reply(
        self, session_id: str, state: AccessState, kind: Kind | None, message: str, now: datetime
    ) -> OrderReply | None:
        """A request's turn (request_turn.py): the answer to a pending confirmation, or a
        new request about the verified order; None when the message is neither."""
        assert self._requests is not None
        try:
            if state.pending_request is not None:
                answered = await self._requests.answer(session_id, state, message)
                if answered is not None:
                    return self._request(*answered)
                state = replace(state, pending_request=None)
            if kind is None:
                return None
            if not state.verified(None, now):
                return self._request("request_needs_verification", {})
            return self._request(
                *await self._requests.propose(session_id, state, kind, message, now)
            )
        except DatabaseUnavailable:
            return OrderReply("unavailable", _english("unavailable"))

    def _request(self, key: str, values: dict[str, str], confirm: bool = False) -> OrderReply:
        values = {**values, "contact": self._contact}
        return OrderReply("request", english(key, values), key=key, values=values, confirm=confirm)

    async def lookup(
        self, session_id: str, order_number: str, email: str | None, postal: str | None, client: str
    ) -> OrderReply:
        """The form's path (POST /v1/orders/lookup): the same rules as the chat."""
        try:
            state = await self._db(self._repo.access, session_id)
            return await self._lookup(session_id, state, order_number, email, postal, client)
        except DatabaseUnavailable:
            return OrderReply("unavailable", _english("unavailable"))

    async def _lookup(
        self,
        session_id: str,
        state: AccessState,
        order_number: str,
        email: str | None,
        postal: str | None,
        client: str,
    ) -> OrderReply:
        now = self._clock()
        if not self._settings.allow_postal_code:
            postal = None  # the shop accepts the email only
        session_state = await self._db(self._counter.peek, "session", session_id, now)
        if session_state.locked(now):
            return OrderReply("locked", _english("locked"))
        if not (email or postal):
            if state.verified(order_number, now):
                facts = await self._db(self._repo.facts, order_number)
                if facts is not None:
                    return OrderReply("facts", "", facts)
            await self._db(
                self._repo.save_access, session_id, replace(state, pending_order=order_number)
            )
            ask = _english("ask_contact" if self._settings.allow_postal_code else "ask_email")
            return OrderReply("ask_contact", ask)
        # Details given: they are checked every time, even in a verified session, so
        # wrong details never ride on an earlier verification.
        return await self._verify(session_id, order_number, email, postal, client, now)

    async def _verify(
        self,
        session_id: str,
        order_number: str,
        email: str | None,
        postal: str | None,
        client: str,
        now: datetime,
    ) -> OrderReply:
        s = self._settings
        address = await self._hit("address", client, s.address_window_minutes, now)
        if address.count > s.attempts_per_address:
            return OrderReply("rate_limited", _english("rate_limited"))
        session = await self._hit("session", session_id, s.failure_window_minutes, now)
        order = await self._hit("order", order_number, s.failure_window_minutes, now)
        if session.locked(now) or session.count > s.max_failed_attempts:
            return OrderReply("locked", _english("locked"))
        if order.locked(now) or order.count > s.max_order_failures:
            return OrderReply("order_locked", self._order_locked)
        facts = await self._db(self._repo.verified_facts, order_number, email, postal)
        if facts is not None:
            # Counted before the check; a success is not a failure.
            await self._db(self._counter.reset, "session", session_id)
            await self._db(self._counter.forgive, "order", order_number)
            await self._db(
                self._repo.save_access,
                session_id,
                AccessState(
                    verified_order=order_number,
                    verified_until=now + timedelta(minutes=s.verified_minutes),
                ),
            )
            return OrderReply("facts", "", facts)
        await self._db(self._repo.save_access, session_id, AccessState(pending_order=order_number))
        return await self._after_failure(session_id, order_number, session, order, now)

    async def _after_failure(
        self, session_id: str, order_number: str, session: Count, order: Count, now: datetime
    ) -> OrderReply:
        s = self._settings
        reply = OrderReply("not_verified", _english("not_verified"))
        if order.count >= s.max_order_failures:
            until = now + timedelta(minutes=s.order_lock_minutes)
            await self._db(self._counter.lock, "order", order_number, until)
            log.warning("order lookup locked after %d failed verifications", order.count)
            reply = OrderReply("order_locked", self._order_locked)
        if session.count >= s.max_failed_attempts:
            until = now + timedelta(minutes=s.lock_minutes)
            await self._db(self._counter.lock, "session", session_id, until)
            reply = OrderReply("locked", _english("locked"))
        return reply

    async def _hit(self, scope: Scope, key: str, window_minutes: int, now: datetime) -> Count:
        return await self._db(
            lambda: self._counter.hit(scope, key, window_s=window_minutes * 60.0, now=now)
        )


def facts_block(facts: OrderFacts, returns_window_days: int, today: datetime) -> str:
    """The small structured block the model gets (generate mode)."""
    rows = {
        "order": facts.order_number,
        "status": facts.status,
        "placed": f"{facts.placed_at:%Y-%m-%d}",
        "carrier": facts.carrier or "-",
        "tracking": facts.tracking_number or "-",
        "expected_delivery": f"{facts.expected_delivery:%Y-%m-%d}"
        if facts.expected_delivery
        else "-",
        "delivered": f"{facts.delivered_at:%Y-%m-%d}" if facts.delivered_at else "-",
        "items": "; ".join(f"{i.quantity} x {i.name}" for i in facts.items),
        "returns": return_eligibility(facts, returns_window_days, today),
    }
    return "\n".join(f"{k}: {v}" for k, v in rows.items())
