"""Deterministic demo orders: `faqbot db seed --demo [--orders N]`."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from service.db.tables import customers, order_items, orders, shipment_events, shipments

STATUSES = (
    "placed",
    "paid",
    "packed",
    "shipped",
    "out_for_delivery",
    "delivered",
    "delayed",
    "cancelled",
    "returned",
    "refunded",
)
IN_FLIGHT = {"placed", "paid", "packed", "shipped", "out_for_delivery", "delayed"}
SHIPPED = {"shipped", "out_for_delivery", "delivered", "delayed", "returned", "refunded"}
CATALOGUE = [
    ("NW-RJ-01", "Fjord rain jacket", 18900),
    ("NW-DJ-02", "Lofoten down jacket", 24900),
    ("NW-FL-03", "Kiruna fleece", 7900),
    ("NW-HB-04", "Tatra hiking boots", 16900),
    ("NW-BP-05", "Dolomiti 30 L backpack", 11900),
    ("NW-ML-06", "Merino base layer", 6900),
    ("NW-ST-07", "Softshell trousers", 9900),
    ("NW-GL-08", "Windstopper gloves", 3900),
    ("NW-BE-09", "Merino beanie", 2900),
    ("NW-TP-10", "Carbon trekking poles", 8900),
]
# City, country and a postal-code maker: every customer gets a code of the real format
# drawn from the country's range, so codes repeat about as rarely as in a real shop
# (a demo set of ten codes made order lookups guessable).
PLACES: list[tuple[str, str, Callable[[random.Random], str]]] = [
    ("Berlin", "DE", lambda r: f"{r.randint(10115, 14199):05d}"),
    ("München", "DE", lambda r: f"{r.randint(80331, 81929):05d}"),
    ("Hamburg", "DE", lambda r: f"{r.randint(20095, 22769):05d}"),
    ("Köln", "DE", lambda r: f"{r.randint(50667, 51149):05d}"),
    ("Leipzig", "DE", lambda r: f"{r.randint(4103, 4357):05d}"),
    ("Wien", "AT", lambda r: f"1{r.randint(10, 23):02d}0"),
    ("Graz", "AT", lambda r: f"80{r.randint(10, 64):02d}"),
    ("Zürich", "CH", lambda r: f"80{r.randint(1, 99):02d}"),
    ("Amsterdam", "NL", lambda r: f"10{r.randint(11, 99)} {_letters(r)}"),
    ("København", "DK", lambda r: f"{r.randint(1050, 2990)}"),
    ("Oslo", "NO", lambda r: f"0{r.randint(150, 1295):03d}"),
    ("London", "GB", lambda r: f"SW{r.randint(1, 20)} {r.randint(1, 9)}{_letters(r)}"),
]


def _letters(r: random.Random) -> str:
    return "".join(r.choice("ABDEFGHJLNPRSTUWXYZ") for _ in range(2))


STREETS = ["Hauptstraße", "Ringweg", "Seestraße", "Bergweg"]
CARRIERS = {"DE": "DHL", "AT": "Austrian Post", "GB": "DPD UK"}
FIRST = ["Anna", "Lukas", "Mia", "Jonas", "Emma", "Felix", "Lea", "Paul", "Sofia", "Noah"]
LAST = ["Berg", "Fischer", "Huber", "Jensen", "Keller", "Larsen", "Meier", "Novak", "Wolf"]
FIRST_ORDER_NUMBER = 100000


def seed_demo(
    engine: sa.Engine,
    n_orders: int = 240,
    *,
    seed: int = 7,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Insert n_orders demo orders (every status equally often) for about n/2 customers.
    Returns the number of orders inserted. Refuses a database that already has orders."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    with engine.begin() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(orders)).scalar_one():
            raise ValueError("the database already has orders; seed an empty one")
        n_customers = max(2, n_orders // 2)
        people: list[dict[str, Any]] = []
        for i in range(n_customers):
            first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
            city, country, postal_code = PLACES[i % len(PLACES)]
            people.append(
                {
                    "id": i + 1,
                    "email": f"{first}.{last}.{i}@example.com".lower(),
                    "name": f"{first} {last}",
                    "street": f"{rng.choice(STREETS)} {rng.randint(1, 199)}",
                    "city": city,
                    "postal_code": postal_code(rng),
                    "country": country,
                }
            )
        conn.execute(customers.insert(), people)
    batch = 2000
    for start in range(0, n_orders, batch):
        _insert_orders(engine, rng, people, now, start, min(n_orders, start + batch))
        if progress is not None:
            progress(min(batch, n_orders - start))
    return n_orders


def _insert_orders(
    engine: sa.Engine,
    rng: random.Random,
    people: list[dict[str, Any]],
    now: datetime,
    start: int,
    end: int,
) -> None:
    rows: dict[str, list[dict[str, Any]]] = {"orders": [], "items": [], "ships": [], "events": []}
    for i in range(start, end):
        status = STATUSES[i % len(STATUSES)]
        person = people[rng.randrange(len(people))]
        order = _order_row(rng, i, status, person, now)
        items = _item_rows(rng, order["id"])
        order["total_cents"] = sum(r["quantity"] * r["unit_price_cents"] for r in items)
        rows["orders"].append(order)
        rows["items"] += items
        if status in SHIPPED:
            rows["ships"].append(_shipment_row(rng, order, person))
            rows["events"] += _event_rows(order, person, now)
    with engine.begin() as conn:
        conn.execute(orders.insert(), rows["orders"])
        conn.execute(order_items.insert(), rows["items"])
        if rows["ships"]:
            conn.execute(shipments.insert(), rows["ships"])
            conn.execute(shipment_events.insert(), rows["events"])


def _order_row(
    rng: random.Random, i: int, status: str, person: dict[str, Any], now: datetime
) -> dict[str, Any]:
    # Orders still on their way were placed recently; finished ones up to 60 days ago.
    days_ago = rng.randint(1, 4) if status in IN_FLIGHT else rng.randint(8, 60)
    placed = now - timedelta(days=days_ago, minutes=rng.randint(0, 1439))
    expected = (placed + timedelta(days=rng.randint(2, 6))).date()
    delivered = None
    if status in ("delivered", "returned", "refunded"):
        delivered = placed + timedelta(days=rng.randint(1, 5), hours=rng.randint(8, 18))
    return {
        "id": i + 1,
        "order_number": f"NW-{FIRST_ORDER_NUMBER + i}",
        "customer_id": person["id"],
        "status": status,
        "placed_at": placed,
        "expected_delivery": expected,
        "delivered_at": delivered,
        "total_cents": 0,
        "currency": "GBP" if person["country"] == "GB" else "EUR",
    }


def _item_rows(rng: random.Random, order_id: int) -> list[dict[str, Any]]:
    return [
        {
            "order_id": order_id,
            "sku": sku,
            "name": name,
            "quantity": rng.choice([1, 1, 1, 2]),
            "unit_price_cents": price,
        }
        for sku, name, price in rng.sample(CATALOGUE, rng.randint(1, 3))
    ]


def _shipment_row(
    rng: random.Random, order: dict[str, Any], person: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": order["id"],
        "order_id": order["id"],
        "carrier": CARRIERS.get(person["country"], "DPD"),
        "tracking_number": f"{rng.randint(10**11, 10**12 - 1)}",
        "status": order["status"],
    }


def _event_rows(
    order: dict[str, Any], person: dict[str, Any], now: datetime
) -> list[dict[str, Any]]:
    status, placed, delivered = order["status"], order["placed_at"], order["delivered_at"]
    history = ["shipped", "in_transit"]
    if status in ("out_for_delivery", "delivered", "returned", "refunded"):
        history.append("out_for_delivery")
    if delivered is not None:
        history.append("delivered")
    if status == "delayed":
        history.append("delayed")
    if status in ("returned", "refunded"):
        history.append("returned_to_sender")
    # Spread the steps over the time since the order, never into the future; a
    # delivered order's last step is its delivery time.
    last = min(delivered or now, now)
    step_gap = (last - placed) / len(history)
    return [
        {
            "shipment_id": order["id"],
            "status": step,
            "occurred_at": placed + step_gap * n,
            "location": person["city"] if step != "shipped" else "Leipzig",
        }
        for n, step in enumerate(history, start=1)
    ]
