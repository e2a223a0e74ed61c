"""What an order answer may show: the facts of one order, from whichever source."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any


@dataclass(frozen=True)
class Item:
    name: str
    quantity: int
    unit_price_cents: int


@dataclass(frozen=True)
class TrackingEvent:
    status: str
    occurred_at: datetime
    location: str | None


@dataclass(frozen=True)
class OrderFacts:
    """What a verified owner may see. No email, name or address: the answer never needs them."""

    order_number: str
    status: str
    placed_at: datetime
    expected_delivery: date | None
    delivered_at: datetime | None
    total_cents: int
    currency: str
    items: tuple[Item, ...]
    carrier: str | None = None
    tracking_number: str | None = None
    events: tuple[TrackingEvent, ...] = field(default_factory=tuple)


def cents(value: Any) -> int:
    """An amount in the currency's major unit (a decimal, as shops store and send it)."""
    try:
        return int((Decimal(str(value or 0)) * 100).quantize(Decimal(1)))
    except InvalidOperation:
        return 0
