"""The "faqbot" order source: the demo's own tables (customers, orders, order_items,
shipments, shipment_events; service/db/tables.py), as `faqbot db seed` fills them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from service.db.tables import (
    as_utc,
    customers,
    order_items,
    orders,
    shipment_events,
    shipments,
)
from service.orders.facts import Item, OrderFacts, TrackingEvent
from service.orders.source import OrderRecord

_TABLES = {
    "customers": ("email", "postal_code"),
    "orders": ("order_number", "status", "placed_at", "total_cents", "currency"),
    "order_items": ("order_id", "name", "quantity", "unit_price_cents"),
    "shipments": ("order_id", "carrier", "tracking_number"),
    "shipment_events": ("shipment_id", "status", "occurred_at", "location"),
}


class FaqbotSource:
    name = "faqbot"

    def __init__(self, engine: sa.Engine) -> None:
        # Reads in autocommit: no BEGIN/ROLLBACK round trips around a single SELECT.
        self._reader = engine.execution_options(isolation_level="AUTOCOMMIT")

    def find(self, order_number: str) -> OrderRecord | None:
        """Two queries on one connection (order + customer + items, then shipment +
        events): each round trip costs about a millisecond, and the p95 target is 5 ms."""
        with self._reader.connect() as conn:
            rows = conn.execute(
                sa.select(
                    orders,
                    customers.c.email,
                    customers.c.postal_code,
                    order_items.c.name.label("item_name"),
                    order_items.c.quantity,
                    order_items.c.unit_price_cents,
                )
                .join(customers, orders.c.customer_id == customers.c.id)
                .outerjoin(order_items, order_items.c.order_id == orders.c.id)
                .where(orders.c.order_number == order_number)
                .order_by(order_items.c.id)
            ).all()
            if not rows:
                return None
            items = tuple(
                Item(r.item_name, r.quantity, r.unit_price_cents)
                for r in rows
                if r.item_name is not None
            )
            order = rows[0]
            facts = _facts(order, items, _latest_tracking(conn, order.id))
        return OrderRecord(facts, order.email, order.postal_code)

    def ping(self) -> None:
        with self._reader.connect() as conn:
            conn.execute(sa.select(sa.literal(1)))

    def problems(self) -> list[str]:
        """Tables or columns missing (migrations not applied: `faqbot db upgrade`)."""
        with self._reader.connect() as conn:
            inspector = sa.inspect(conn)
            found = []
            for table, columns in _TABLES.items():
                if not inspector.has_table(table):
                    found.append(f"table {table} is missing (run `faqbot db upgrade`)")
                    continue
                have = {c["name"] for c in inspector.get_columns(table)}
                found += [f"{table}.{c} is missing" for c in columns if c not in have]
        return found


def _facts(order: Any, items: tuple[Item, ...], tracking: list[Any]) -> OrderFacts:
    first = tracking[0] if tracking else None
    return OrderFacts(
        order_number=order.order_number,
        status=order.status,
        placed_at=as_utc(order.placed_at) or order.placed_at,
        expected_delivery=order.expected_delivery,
        delivered_at=as_utc(order.delivered_at),
        total_cents=order.total_cents,
        currency=order.currency,
        items=items,
        carrier=first.carrier if first else None,
        tracking_number=first.tracking_number if first else None,
        events=tuple(
            TrackingEvent(e.status, as_utc(e.occurred_at) or e.occurred_at, e.location)
            for e in tracking
            if e.status is not None
        ),
    )


def _latest_tracking(conn: sa.Connection, order_id: int) -> list[Any]:
    """The latest shipment and its events in one query (outer join: a shipment may have
    no events yet); empty when the order has not shipped."""
    latest = (
        sa.select(sa.func.max(shipments.c.id))
        .where(shipments.c.order_id == order_id)
        .scalar_subquery()
    )
    return list(
        conn.execute(
            sa.select(
                shipments.c.carrier,
                shipments.c.tracking_number,
                shipment_events.c.status,
                shipment_events.c.occurred_at,
                shipment_events.c.location,
            )
            .select_from(
                shipments.outerjoin(
                    shipment_events, shipment_events.c.shipment_id == shipments.c.id
                )
            )
            .where(shipments.c.id == latest)
            .order_by(shipment_events.c.occurred_at)
        ).all()
    )
