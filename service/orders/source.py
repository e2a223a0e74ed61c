"""Where orders come from: the shop's own system, behind one narrow interface.

Every source answers one question, the order with this number, and returns what the
answer may show (OrderFacts) together with what proves ownership (the email address and
postal code the order was placed with), which is compared in verify.py the same way for
every source and never shown. Sources are read-only: faqbot never writes to a shop's
order tables. Calls block; the caller runs them in the orders' own threads under a
timeout and a circuit breaker (service/db/guard.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from service.orders.facts import OrderFacts


@dataclass(frozen=True)
class OrderRecord:
    facts: OrderFacts
    email: str | None  # proof of ownership only: never shown, never logged
    postal_code: str | None


class SourceError(ConnectionError):
    """The source cannot answer now (down, throttled, refused our credentials): the
    customer is told that order lookup is temporarily unavailable. A ConnectionError, so
    the orders' guard counts it against its breaker like a database that is down."""


class OrderSource(Protocol):
    name: str  # "faqbot", "woocommerce", "saleor", "sql", "shopify"

    def find(self, order_number: str) -> OrderRecord | None:
        """The order with this number (as the shop writes it), or None."""
        ...

    def ping(self) -> None:
        """Raises if the source cannot be reached (readiness)."""
        ...

    def problems(self) -> list[str]:
        """What is wrong with the source's configuration, in words that name the query
        or column (``faqbot orders check``); empty when it is ready."""
        ...
