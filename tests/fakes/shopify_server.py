"""A fake of Shopify's Admin GraphQL API for orders, served over real HTTP.

POST /admin/api/<version>/graphql.json with the X-Shopify-Access-Token header, as the
documentation describes: 401 with {"errors": "[API] Invalid API key or access token
..."} for a wrong token; the orders query with a search string (``name:"#1001"``);
every answer carries the cost extension (throttleStatus), and a throttled one is HTTP
200 with the error code THROTTLED. Fields the documented Order, LineItem, Fulfillment
and FulfillmentEvent objects do not have are refused as Shopify refuses them
(undefinedField), so a typo in our query fails here as it would there. Knobs: throttle
the next answers, fail with a status, answer slowly. Requests are recorded.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.served import Served

TOKEN = "shpat_test_token"
# The fields our query may select, from the documented objects (shopify.dev, Admin
# GraphQL: QueryRoot.orders, Order, MailingAddress, MoneyBag, MoneyV2, LineItem,
# Fulfillment, FulfillmentTrackingInfo, FulfillmentEvent, Shop).
KNOWN_FIELDS = {
    "query",
    "Order",
    "String",
    "orders",
    "first",
    "nodes",
    "edges",
    "node",
    "shop",
    "name",
    "createdAt",
    "cancelledAt",
    "displayFinancialStatus",
    "displayFulfillmentStatus",
    "email",
    "billingAddress",
    "shippingAddress",
    "zip",
    "city",
    "country",
    "totalPriceSet",
    "shopMoney",
    "presentmentMoney",
    "amount",
    "currencyCode",
    "lineItems",
    "quantity",
    "originalUnitPriceSet",
    "fulfillments",
    "displayStatus",
    "deliveredAt",
    "estimatedDeliveryAt",
    "inTransitAt",
    "trackingInfo",
    "company",
    "number",
    "url",
    "events",
    "status",
    "happenedAt",
    "id",
}
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NAME = re.compile(r"""name:\s*["']?([^"'\s]+)["']?""")


@dataclass
class FakeShopifyBehaviour:
    orders: list[dict[str, Any]] = field(default_factory=list)  # Order objects, as returned
    throttle_next: int = 0  # answer this many requests THROTTLED
    throttle_wait_s: float = 0.2  # how long the bucket needs to refill
    fail_status: int | None = None  # answer every request with this status
    slow_s: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)


def _cost(available: float, requested: float = 52.0) -> dict[str, Any]:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": None if available < requested else requested,
            "throttleStatus": {
                "maximumAvailable": 2000.0,
                "currentlyAvailable": available,
                "restoreRate": 100.0,
            },
        }
    }


_INDEX: dict[tuple[int, int], dict[str, dict[str, Any]]] = {}


def _by_name(orders: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The orders by name, built once per list (a benchmark's shop has 100,000)."""
    key = (id(orders), len(orders))
    if key not in _INDEX:
        _INDEX.clear()
        _INDEX[key] = {o["name"]: o for o in orders}
    return _INDEX[key]


def build_app(behaviour: FakeShopifyBehaviour) -> Starlette:
    async def graphql(request: Request) -> Response:
        body = json.loads(await request.body() or b"{}")
        behaviour.requests.append({"headers": dict(request.headers), "body": body})
        if behaviour.slow_s:
            time.sleep(behaviour.slow_s)  # blocks this fake's loop, as a stalled peer would
        if request.headers.get("x-shopify-access-token") != TOKEN:
            return JSONResponse(
                {
                    "errors": "[API] Invalid API key or access token (unrecognized login or "
                    "wrong password)"
                },
                status_code=401,
            )
        if behaviour.fail_status is not None:
            return JSONResponse({"errors": "Internal error"}, status_code=behaviour.fail_status)
        if behaviour.throttle_next > 0:
            behaviour.throttle_next -= 1
            available = 52.0 - behaviour.throttle_wait_s * 100.0
            return JSONResponse(
                {
                    "errors": [
                        {
                            "message": "Throttled",
                            "extensions": {
                                "code": "THROTTLED",
                                "documentation": "https://shopify.dev/api/usage/rate-limits",
                            },
                        }
                    ],
                    "extensions": _cost(available),
                }
            )
        query = str(body.get("query") or "")
        unknown = sorted(set(_WORD.findall(query)) - KNOWN_FIELDS)
        if unknown:
            return JSONResponse(
                {
                    "errors": [
                        {
                            "message": f"Field '{unknown[0]}' doesn't exist on type 'Order'",
                            "extensions": {"code": "undefinedField", "fieldName": unknown[0]},
                        }
                    ]
                }
            )
        if "orders" in query:
            search = str((body.get("variables") or {}).get("query") or "")
            wanted = _NAME.search(search)
            found = _by_name(behaviour.orders).get(wanted.group(1)) if wanted else None
            data: dict[str, Any] = {"orders": {"nodes": [found] if found else []}}
        else:
            data = {"shop": {"name": "Test Shop"}}
        return JSONResponse({"data": data, "extensions": _cost(1948.0)})

    return Starlette(routes=[Route("/admin/api/{version}/graphql.json", graphql, methods=["POST"])])


class FakeShopify(Served):
    """Runs the fake on a free loopback port in a background thread."""

    def __init__(self, behaviour: FakeShopifyBehaviour | None = None) -> None:
        self.behaviour = behaviour or FakeShopifyBehaviour()
        super().__init__(build_app(self.behaviour), "fake Shopify")


def running(behaviour: FakeShopifyBehaviour | None = None) -> Iterator[FakeShopify]:
    with FakeShopify(behaviour) as server:
        yield server
