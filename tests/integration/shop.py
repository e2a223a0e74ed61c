"""Two customers for the order tests: the attacker knows Alice's details only, and no
response may ever contain anything of Bob's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from service.db.tables import customers, order_items, orders, shipment_events, shipments

ALICE = {
    "email": "alice@example.com",
    "postal": "10115",
    "order": "NW-200001",
    "item": "Fjord rain jacket",
    "tracking": "003404341111",
    "street": "Alicestraße 1",
}
BOB = {
    "email": "bob@example.org",
    "postal": "8001",
    "order": "NW-200002",
    "item": "Tatra hiking boots",
    "tracking": "003404342222",
    "street": "Bobweg 22",
}
BOB_SECRETS = [
    BOB["email"],
    BOB["order"],
    BOB["item"],
    BOB["tracking"],
    BOB["street"],
    "NW-200003",
    "Bob",
    "8001",
]


def seed_two_customers(url: str) -> None:
    """Alice (NW-200001) and Bob (NW-200002, NW-200003), with items and tracking."""
    engine = sa.create_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for cid, who, name, city in (
            (1, ALICE, "Alice Berg", "Berlin"),
            (2, BOB, "Bob Keller", "Zürich"),
        ):
            conn.execute(
                customers.insert().values(
                    id=cid,
                    email=who["email"],
                    name=name,
                    street=who["street"],
                    city=city,
                    postal_code=who["postal"],
                    country="DE",
                )
            )
        rows = [
            (1, ALICE["order"], 1, "shipped", None),
            (2, BOB["order"], 2, "delivered", now - timedelta(days=3)),
            (3, "NW-200003", 2, "paid", None),
        ]
        for oid, number, cid, status, delivered in rows:
            conn.execute(
                orders.insert().values(
                    id=oid,
                    order_number=number,
                    customer_id=cid,
                    status=status,
                    placed_at=now - timedelta(days=5),
                    expected_delivery=(now + timedelta(days=2)).date(),
                    delivered_at=delivered,
                    total_cents=18900,
                    currency="EUR",
                )
            )
        conn.execute(
            order_items.insert(),
            [
                {
                    "order_id": 1,
                    "sku": "NW-RJ-01",
                    "name": ALICE["item"],
                    "quantity": 1,
                    "unit_price_cents": 18900,
                },
                {
                    "order_id": 2,
                    "sku": "NW-HB-04",
                    "name": BOB["item"],
                    "quantity": 1,
                    "unit_price_cents": 16900,
                },
                {
                    "order_id": 3,
                    "sku": "NW-FL-03",
                    "name": "Kiruna fleece",
                    "quantity": 2,
                    "unit_price_cents": 7900,
                },
            ],
        )
        conn.execute(
            shipments.insert(),
            [
                {
                    "id": 1,
                    "order_id": 1,
                    "carrier": "DHL",
                    "tracking_number": ALICE["tracking"],
                    "status": "shipped",
                },
                {
                    "id": 2,
                    "order_id": 2,
                    "carrier": "DPD",
                    "tracking_number": BOB["tracking"],
                    "status": "delivered",
                },
            ],
        )
        conn.execute(
            shipment_events.insert(),
            [
                {
                    "shipment_id": 1,
                    "status": "shipped",
                    "occurred_at": now - timedelta(days=1),
                    "location": "Leipzig",
                },
                {
                    "shipment_id": 2,
                    "status": "delivered",
                    "occurred_at": now - timedelta(days=3),
                    "location": "Zürich",
                },
            ],
        )
    engine.dispose()
