"""The "sql" order source, and the WooCommerce and Saleor presets: a shop's own order
tables read through the named queries of a mapping (mapping.py). Read-only: every query
runs in a transaction that is rolled back, on a read-only role where the shop gives one
(docs/orders.md)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from service.db.tables import as_utc
from service.orders.facts import Item, OrderFacts, TrackingEvent, cents
from service.orders.mapping import COLUMNS, QueryMapping
from service.orders.php_serialized import shipment_tracking
from service.orders.source import OrderRecord, SourceError

# NULL for each parameter: `faqbot orders check` runs every query with it to see the
# columns it returns (NULL matches no row and takes any column type).
_PROBE: dict[str, Any] = {"number": None, "order_key": None}
_CARRIERS = {
    "dhl": "DHL",
    "ups": "UPS",
    "usps": "USPS",
    "fedex": "FedEx",
    "dpd": "DPD",
    "gls": "GLS",
    "tnt": "TNT",
    "royal-mail": "Royal Mail",
    "postnl": "PostNL",
}


class SqlOrderSource:
    def __init__(self, engine: sa.Engine, mapping: QueryMapping) -> None:
        self.name = mapping.name
        self._engine = engine
        self._mapping = mapping
        self._queries = {k: sa.text(v) for k, v in mapping.queries.items()}

    def find(self, order_number: str) -> OrderRecord | None:
        try:
            with self._engine.connect() as conn:
                row = self._one(conn, "order", number=order_number)
                if row is None:
                    return None
                key = row["order_key"]
                items = self._all(conn, "items", order_key=key)
                shipment = self._one(conn, "shipment", order_key=key)
                events = self._all(conn, "events", order_key=key)
                conn.rollback()  # read-only: nothing is ever committed
        except SQLAlchemyError as exc:
            raise SourceError(f"{self.name}: {type(exc).__name__}") from exc
        return OrderRecord(
            self._facts(row, items, shipment, events),
            _text(row.get("email")),
            _text(row.get("postal_code")),
        )

    def ping(self) -> None:
        with self._engine.connect() as conn:
            conn.execute(sa.select(sa.literal(1)))

    def problems(self) -> list[str]:
        """Runs each query once with a sample parameter and names what fails: a query
        the database refuses (its error), or a column it does not return."""
        found: list[str] = []
        with self._engine.connect() as conn:
            for name, query in self._queries.items():
                try:
                    result = conn.execute(query, _PROBE)
                    columns = set(result.keys())
                    result.close()
                except SQLAlchemyError as exc:
                    conn.rollback()
                    found.append(f"query '{name}' fails: {_first_line(exc)}")
                    continue
                required, optional = COLUMNS[name]
                missing = sorted(required - columns)
                if missing:
                    found.append(f"query '{name}' returns no column {', '.join(missing)}")
                if name == "shipment" and not columns & optional:
                    found.append(
                        "query 'shipment' returns neither tracking_number nor tracking_items"
                    )
            conn.rollback()
        return found

    def _one(self, conn: sa.Connection, name: str, **params: Any) -> Mapping[str, Any] | None:
        if name not in self._queries:
            return None
        row = conn.execute(self._queries[name], params).mappings().first()
        return dict(row) if row is not None else None

    def _all(self, conn: sa.Connection, name: str, **params: Any) -> list[Mapping[str, Any]]:
        if name not in self._queries:
            return []
        return [dict(r) for r in conn.execute(self._queries[name], params).mappings()]

    def _facts(
        self,
        row: Mapping[str, Any],
        items: list[Mapping[str, Any]],
        shipment: Mapping[str, Any] | None,
        events: list[Mapping[str, Any]],
    ) -> OrderFacts:
        carrier, tracking = self._tracking(shipment)
        return OrderFacts(
            order_number=str(row["order_number"]),
            status=self._status(row["status"]),
            placed_at=_moment(row["placed_at"]),
            expected_delivery=_day(row.get("expected_delivery")),
            delivered_at=_moment(row["delivered_at"]) if row.get("delivered_at") else None,
            total_cents=cents(row["total"]),
            currency=str(row["currency"] or "").upper(),
            items=tuple(
                Item(str(i["name"]), int(i["quantity"] or 0), cents(i["unit_price"])) for i in items
            ),
            carrier=carrier,
            tracking_number=tracking,
            events=tuple(
                TrackingEvent(
                    self._status(e["status"]), _moment(e["occurred_at"]), _text(e.get("location"))
                )
                for e in events
                if e.get("status") and e.get("occurred_at")
            ),
        )

    def _status(self, value: Any) -> str:
        raw = str(value or "").strip()
        return self._mapping.statuses.get(raw, raw.lower())

    def _tracking(self, shipment: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
        if shipment is None:
            return None, None
        if self._mapping.decode.get("tracking_items") == "woocommerce-shipment-tracking":
            carrier, number = shipment_tracking(_text(shipment.get("tracking_items")))
            return (_CARRIERS.get(carrier.lower(), carrier) if carrier else None), number
        return _text(shipment.get("carrier")), _text(shipment.get("tracking_number"))


def _text(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        return as_utc(value) or value
    if isinstance(value, date):
        return as_utc(datetime(value.year, value.month, value.day)) or datetime.min
    return as_utc(datetime.fromisoformat(str(value))) or datetime.min


def _day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _first_line(exc: SQLAlchemyError) -> str:
    return str(getattr(exc, "orig", exc)).strip().splitlines()[0][:300]
