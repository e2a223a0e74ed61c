"""The order-lookup turn of a conversation. The code, not the model, decides what may be
shown: order details only after the order number and its email (or postal code) were
given in the same session; nothing before that reveals whether an order exists.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from service.config import OrderSettings
from service.orders.extract import (
    find_email,
    find_order_numbers,
    find_postal_code,
    mentions_orders,
)
from service.orders.ratelimit import AddressLimiter
from service.orders.repository import AccessState, OrderFacts, OrderRepository

log = logging.getLogger("faqbot.orders")
T = TypeVar("T")

Outcome = Literal["facts", "ask_contact", "not_verified", "locked", "rate_limited", "unavailable"]

ASK_CONTACT = (
    "I can look that up. To protect your privacy, please also tell me the email address "
    "(or the postal code) the order was placed with."
)
ASK_ORDER_NUMBER = (
    "Please tell me your order number (it starts with NW-, for example NW-100234) and the "
    "email address or postal code you ordered with."
)
NOT_VERIFIED = (
    "I couldn't verify these details. Please check the order number and the email address "
    "or postal code you ordered with."
)
LOCKED = (
    "For your security, order lookup is paused for this conversation after several "
    "unsuccessful attempts. Please try again later or contact our team."
)
RATE_LIMITED = "Too many lookup attempts. Please wait a few minutes and try again."
UNAVAILABLE = (
    "Order lookup is temporarily unavailable. Please try again in a few minutes; "
    "questions about our policies I can still answer."
)


class LookupUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class OrderReply:
    outcome: Outcome
    text: str
    facts: OrderFacts | None = None


def _now() -> datetime:
    return datetime.now(UTC)


class OrderAssistant:
    def __init__(
        self,
        repository: OrderRepository,
        settings: OrderSettings,
        limiter: AddressLimiter | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._repo = repository
        self._settings = settings
        self._limiter = limiter or AddressLimiter(
            settings.attempts_per_address, settings.address_window_minutes * 60
        )
        self._clock = clock

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(fn, *args), timeout=self._settings.db_timeout_s
            )
        except (SQLAlchemyError, TimeoutError, OSError) as exc:
            log.warning("order database unavailable: %s", type(exc).__name__)
            raise LookupUnavailable(str(exc)) from exc

    async def handle_message(self, session_id: str, message: str, client: str) -> OrderReply | None:
        """The reply to an order question, or None when the message is not one (the FAQ
        answers it). An order number, or contact details for a pending order, or a
        question about the order already verified in this session make it one."""
        numbers = find_order_numbers(message)
        email, postal = find_email(message), find_postal_code(message)
        if not (numbers or email or postal or mentions_orders(message)):
            return None  # plainly an FAQ question: no database round trip
        try:
            state = await self._db(self._repo.access, session_id)
        except LookupUnavailable:
            if numbers:
                return OrderReply("unavailable", UNAVAILABLE)
            return None
        now = self._clock()
        verified = (
            state.verified_order
            if state.verified_until is not None and state.verified_until > now
            else None
        )
        if not numbers:
            if state.pending_order and (email or postal):
                numbers = [state.pending_order]
            elif verified and mentions_orders(message):
                numbers = [verified]
            else:
                return None
        order_number = numbers[0]
        try:
            return await self._lookup(session_id, state, order_number, email, postal, client)
        except LookupUnavailable:
            return OrderReply("unavailable", UNAVAILABLE)

    async def lookup(
        self, session_id: str, order_number: str, email: str | None, postal: str | None, client: str
    ) -> OrderReply:
        """The form's path (POST /v1/orders/lookup): the same rules as the chat."""
        try:
            state = await self._db(self._repo.access, session_id)
            return await self._lookup(session_id, state, order_number, email, postal, client)
        except LookupUnavailable:
            return OrderReply("unavailable", UNAVAILABLE)

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
        if state.locked_until is not None and state.locked_until > now:
            return OrderReply("locked", LOCKED)
        still_verified = (
            state.verified_order == order_number
            and state.verified_until is not None
            and state.verified_until > now
        )
        if still_verified:
            facts = await self._db(self._repo.facts, order_number)
            if facts is not None:
                return OrderReply("facts", "", facts)
        if not (email or postal):
            await self._db(
                self._repo.save_access, session_id, replace(state, pending_order=order_number)
            )
            return OrderReply("ask_contact", ASK_CONTACT)
        if not self._limiter.allow(client):
            return OrderReply("rate_limited", RATE_LIMITED)
        facts = await self._db(self._repo.verified_facts, order_number, email, postal)
        if facts is not None:
            await self._db(
                self._repo.save_access,
                session_id,
                AccessState(
                    verified_order=order_number,
                    verified_until=now + timedelta(minutes=self._settings.verified_minutes),
                    failed_attempts=0,
                ),
            )
            return OrderReply("facts", "", facts)
        failures = state.failed_attempts + 1
        locked = failures >= self._settings.max_failed_attempts
        await self._db(
            self._repo.save_access,
            session_id,
            AccessState(
                pending_order=order_number,
                failed_attempts=0 if locked else failures,
                locked_until=now + timedelta(minutes=self._settings.lock_minutes)
                if locked
                else None,
            ),
        )
        return OrderReply("locked", LOCKED) if locked else OrderReply("not_verified", NOT_VERIFIED)


def describe_order(facts: OrderFacts, returns_window_days: int, today: datetime) -> str:
    """The templated answer: every fact from the database, nothing invented."""
    status = facts.status.replace("_", " ")
    lines = [f"Order {facts.order_number} (placed {facts.placed_at:%d %b %Y}) is {status}."]
    if facts.carrier and facts.tracking_number:
        lines.append(f"Carrier: {facts.carrier}, tracking number {facts.tracking_number}.")
    if facts.events:
        last = facts.events[-1]
        where = f" in {last.location}" if last.location else ""
        lines.append(
            f"Latest tracking update: {last.status.replace('_', ' ')}{where} "
            f"on {last.occurred_at:%d %b %Y, %H:%M}."
        )
    if facts.delivered_at is not None:
        lines.append(f"Delivered on {facts.delivered_at:%d %b %Y}.")
    elif facts.expected_delivery is not None and facts.status not in (
        "cancelled",
        "refunded",
        "returned",
    ):
        lines.append(f"Expected delivery: {facts.expected_delivery:%d %b %Y}.")
    items = ", ".join(f"{i.quantity} × {i.name}" for i in facts.items)
    lines.append(f"Items: {items} ({facts.total_cents / 100:.2f} {facts.currency}).")
    lines.append(return_eligibility(facts, returns_window_days, today))
    return " ".join(lines)


def return_eligibility(facts: OrderFacts, window_days: int, today: datetime) -> str:
    if facts.status in ("cancelled", "refunded"):
        return "There is nothing to return for this order."
    if facts.status == "returned":
        return "This order has already been returned."
    if facts.delivered_at is None:
        return f"Once delivered, you can return unworn items within {window_days} days."
    last_day = (facts.delivered_at + timedelta(days=window_days)).date()
    if today.date() <= last_day:
        return f"You can return unworn items until {last_day:%d %b %Y} ({window_days} days)."
    return f"The {window_days}-day return window ended on {last_day:%d %b %Y}."


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
