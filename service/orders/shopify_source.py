"""The "shopify" order source: Shopify's Admin GraphQL API (read_orders scope), the order
by its name ("#1001") with its line items and fulfillments (tracking and events).

Shopify limits each app by query cost: a throttled answer (HTTP 200 with the error code
THROTTLED, or HTTP 429) is retried once when the bucket refills within a second, else
the lookup is "temporarily unavailable". Every call has a timeout."""

from __future__ import annotations

import logging
import time
from datetime import date, datetime
from typing import Any

import httpx

from service.orders.facts import Item, OrderFacts, TrackingEvent, cents
from service.orders.source import OrderRecord, SourceError

log = logging.getLogger("faqbot.orders")

ORDER_QUERY = """
query Order($query: String!) {
  orders(first: 1, query: $query) {
    nodes {
      name
      createdAt
      cancelledAt
      displayFinancialStatus
      email
      billingAddress { zip }
      shippingAddress { zip }
      totalPriceSet { shopMoney { amount currencyCode } }
      lineItems(first: 50) {
        nodes { name quantity originalUnitPriceSet { shopMoney { amount } } }
      }
      fulfillments(first: 10) {
        createdAt
        displayStatus
        deliveredAt
        estimatedDeliveryAt
        trackingInfo(first: 1) { company number }
        events(first: 20) { nodes { status happenedAt city } }
      }
    }
  }
}
"""
PING_QUERY = "{ shop { name } }"
MAX_WAIT_S = 1.0  # a throttled lookup waits at most this long for the bucket to refill
_FINANCIAL = {
    "PAID": "paid",
    "REFUNDED": "refunded",
    "PARTIALLY_REFUNDED": "paid",
    "PENDING": "pending_payment",
    "AUTHORIZED": "processing",
}
_SHIPPED = {
    "DELIVERED": "delivered",
    "IN_TRANSIT": "in_transit",
    "OUT_FOR_DELIVERY": "out_for_delivery",
}


class ShopifySource:
    name = "shopify"

    def __init__(
        self,
        base_url: str,
        token: str,
        api_version: str,
        *,
        timeout_s: float = 2.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._url = f"{base_url.rstrip('/')}/admin/api/{api_version}/graphql.json"
        self._timeout_s = timeout_s
        self._client = httpx.Client(
            headers={"X-Shopify-Access-Token": token, "Content-Type": "application/json"},
            timeout=httpx.Timeout(timeout_s),
            transport=transport,
            follow_redirects=False,
        )

    def find(self, order_number: str) -> OrderRecord | None:
        # The number was read in the shop's numbering (digits and its prefix only), so it
        # cannot carry search syntax; quoted all the same.
        data = self._query(ORDER_QUERY, {"query": f'name:"{order_number}"'})
        nodes = ((data.get("orders") or {}).get("nodes")) or []
        order = next((n for n in nodes if n.get("name") == order_number), None)
        if order is None:
            return None
        billing = order.get("billingAddress") or {}
        shipping = order.get("shippingAddress") or {}
        return OrderRecord(
            _facts(order), order.get("email"), billing.get("zip") or shipping.get("zip")
        )

    def ping(self) -> None:
        self._query(PING_QUERY, {})

    def problems(self) -> list[str]:
        try:
            self.ping()
        except SourceError as exc:
            return [str(exc)]
        return []

    def close(self) -> None:
        self._client.close()

    def _query(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        started = time.monotonic()
        for attempt in (1, 2):
            wait = self._post(query, variables)
            if isinstance(wait, dict):
                return wait
            left = self._timeout_s - (time.monotonic() - started)
            if attempt == 2 or wait > min(MAX_WAIT_S, left):
                raise SourceError("shopify: throttled (the API's rate limit); try again soon")
            time.sleep(wait)
        raise AssertionError("unreachable")

    def _post(self, query: str, variables: dict[str, Any]) -> dict[str, Any] | float:
        """The answer's data, or the seconds to wait when throttled."""
        try:
            response = self._client.post(self._url, json={"query": query, "variables": variables})
        except httpx.TimeoutException as exc:
            raise SourceError("shopify: no answer in time") from exc
        except httpx.HTTPError as exc:
            raise SourceError(f"shopify: {type(exc).__name__}") from exc
        if response.status_code == 429:
            return _seconds(response.headers.get("Retry-After"), 1.0)
        if response.status_code in (401, 403):
            raise SourceError(f"shopify: the access token was refused ({response.status_code})")
        if response.status_code != 200:
            raise SourceError(f"shopify: HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise SourceError("shopify: the answer is not JSON") from exc
        errors = body.get("errors") or []
        if errors:
            codes = {(e.get("extensions") or {}).get("code") for e in errors if isinstance(e, dict)}
            if "THROTTLED" in codes:
                return _refill_wait(body)
            first = errors[0].get("message") if isinstance(errors[0], dict) else errors
            raise SourceError(f"shopify: {str(first)[:200]}")
        data = body.get("data")
        if not isinstance(data, dict):
            raise SourceError("shopify: the answer has no data")
        return data


def _refill_wait(body: dict[str, Any]) -> float:
    """How long until the bucket holds the query's cost, from the cost extension."""
    cost = (body.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    try:
        need = float(cost.get("requestedQueryCost") or 0) - float(status["currentlyAvailable"])
        return max(0.0, need / float(status["restoreRate"]))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return 1.0


def _seconds(value: str | None, default: float) -> float:
    try:
        return max(0.0, float(value)) if value else default
    except ValueError:
        return default


def _facts(order: dict[str, Any]) -> OrderFacts:
    money = ((order.get("totalPriceSet") or {}).get("shopMoney")) or {}
    fulfillments = sorted(order.get("fulfillments") or [], key=lambda f: f.get("createdAt") or "")
    latest = fulfillments[-1] if fulfillments else None
    tracking = ((latest or {}).get("trackingInfo") or [{}])[0] if latest else {}
    events = ((latest or {}).get("events") or {}).get("nodes") or [] if latest else []
    return OrderFacts(
        order_number=str(order["name"]),
        status=_status(order, latest),
        placed_at=_moment(order["createdAt"]),
        expected_delivery=_day(latest.get("estimatedDeliveryAt")) if latest else None,
        delivered_at=_moment(latest["deliveredAt"])
        if latest and latest.get("deliveredAt")
        else None,
        total_cents=cents(money.get("amount")),
        currency=str(money.get("currencyCode") or ""),
        items=tuple(
            Item(
                str(i.get("name") or ""),
                int(i.get("quantity") or 0),
                cents(
                    (((i.get("originalUnitPriceSet") or {}).get("shopMoney")) or {}).get("amount")
                ),
            )
            for i in ((order.get("lineItems") or {}).get("nodes") or [])
        ),
        carrier=(tracking or {}).get("company") or None,
        tracking_number=(tracking or {}).get("number") or None,
        events=tuple(
            TrackingEvent(str(e["status"]).lower(), _moment(e["happenedAt"]), e.get("city"))
            for e in sorted(events, key=lambda e: e.get("happenedAt") or "")
            if e.get("status") and e.get("happenedAt")
        ),
    )


def _status(order: dict[str, Any], latest: dict[str, Any] | None) -> str:
    if order.get("cancelledAt"):
        return "cancelled"
    if latest is not None:
        return _SHIPPED.get(str(latest.get("displayStatus") or ""), "shipped")
    return _FINANCIAL.get(str(order.get("displayFinancialStatus") or ""), "processing")


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _day(value: str | None) -> date | None:
    return _moment(value).date() if value else None
