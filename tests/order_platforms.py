"""The same shop's orders, stored the way each platform stores them: faqbot's demo tables,
WooCommerce's HPOS tables (MariaDB), Saleor's tables (PostgreSQL) and Shopify's Admin
API (the fake). The DDL is ours, written from each platform's published definitions
(WooCommerce's OrdersTableDataStore and WC_Install schemas, Saleor's order and account
models); only the tables and columns the presets read, with the platforms' types.

Each builder returns a ready OrderSource and the number format the shop uses, so one
contract suite (tests/contracts/test_order_source_contract.py) runs on all of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from service.db.migrations import upgrade
from service.db.tables import customers, order_items, orders, shipment_events, shipments
from service.orders.extract import OrderNumbers
from service.orders.faqbot_source import FaqbotSource
from service.orders.mapping import load_mapping, preset_path
from service.orders.source import OrderSource
from service.orders.sql_source import SqlOrderSource

PLACED = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Sample:
    """One order as the shop knows it, whatever stores it."""

    n: int  # the shop's own number, written per platform (NW-1001, 1001, #1001)
    email: str
    postal: str
    status: str  # in faqbot's words, after the platform's status is mapped
    items: tuple[tuple[str, int, int], ...]  # name, quantity, unit price in cents
    currency: str = "EUR"
    carrier: str | None = None
    tracking: str | None = None
    events: tuple[tuple[str, datetime, str | None], ...] = field(default_factory=tuple)

    @property
    def total_cents(self) -> int:
        return sum(q * c for _, q, c in self.items)


SAMPLES = (
    Sample(
        1001,
        "alice@example.com",
        "10115",
        "shipped",
        (("Fjord rain jacket", 1, 18900), ("Merino beanie", 2, 2900)),
        carrier="DHL",
        tracking="003404341111",
        events=(
            ("in_transit", PLACED + timedelta(days=1), "Leipzig"),
            ("out_for_delivery", PLACED + timedelta(days=2), "Berlin"),
        ),
    ),
    Sample(1002, "bob@example.com", "8001", "processing", (("Kiruna fleece", 1, 7900),)),
    Sample(1003, "bob@example.com", "8001", "cancelled", (("Tatra hiking boots", 1, 16900),)),
)
MISSING = 4242


@dataclass
class Platform:
    name: str
    source: OrderSource
    numbers: OrderNumbers
    has_carrier: bool = True
    has_events: bool = False

    def number(self, n: int) -> str:
        return f"{self.numbers.prefix}{n}"


# -- faqbot's demo tables ----------------------------------------------------------------


def faqbot_rows(conn: sa.Connection, samples: tuple[Sample, ...], first: int = 1) -> None:
    """The samples in faqbot's demo tables (a customer per email), ids from ``first``."""
    people: dict[str, int] = {}
    order_rows, item_rows, shipment_rows, event_rows = [], [], [], []
    for i, s in enumerate(samples, start=first):
        if s.email not in people:
            people[s.email] = first + len(people)
        order_rows.append(
            {
                "id": i,
                "order_number": f"NW-{s.n}",
                "customer_id": people[s.email],
                "status": s.status,
                "placed_at": PLACED,
                "total_cents": s.total_cents,
                "currency": s.currency,
            }
        )
        item_rows += [
            {
                "order_id": i,
                "sku": f"SKU-{i}-{j}",
                "name": name,
                "quantity": q,
                "unit_price_cents": cents,
            }
            for j, (name, q, cents) in enumerate(s.items)
        ]
        if s.tracking:
            shipment_rows.append(
                {
                    "id": i,
                    "order_id": i,
                    "carrier": s.carrier,
                    "tracking_number": s.tracking,
                    "status": s.status,
                }
            )
            event_rows += [
                {"shipment_id": i, "status": st, "occurred_at": at, "location": where}
                for st, at, where in s.events
            ]
    postal = {s.email: s.postal for s in samples}
    conn.execute(
        customers.insert(),
        [
            {
                "id": cid,
                "email": email,
                "name": "A Customer",
                "street": "Street 1",
                "city": "Berlin",
                "postal_code": postal[email],
                "country": "DE",
            }
            for email, cid in people.items()
        ],
    )
    for table, rows in (
        (orders, order_rows),
        (order_items, item_rows),
        (shipments, shipment_rows),
        (shipment_events, event_rows),
    ):
        if rows:
            conn.execute(table.insert(), rows)


def faqbot_platform(url: str) -> Platform:
    upgrade(url)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        faqbot_rows(conn, SAMPLES)
    return Platform("faqbot", FaqbotSource(engine), OrderNumbers("NW-", 4, 6), has_events=True)


# -- WooCommerce (HPOS) on MariaDB -----------------------------------------------------------

WOOCOMMERCE_DDL = [
    """CREATE TABLE wp_wc_orders (
      id bigint(20) unsigned NOT NULL, status varchar(20) NULL, currency varchar(10) NULL,
      type varchar(20) NULL, tax_amount decimal(26,8) NULL, total_amount decimal(26,8) NULL,
      customer_id bigint(20) unsigned NULL, billing_email varchar(320) NULL,
      date_created_gmt datetime NULL, date_updated_gmt datetime NULL,
      parent_order_id bigint(20) unsigned NULL, payment_method varchar(100) NULL,
      payment_method_title text NULL, transaction_id varchar(100) NULL,
      ip_address varchar(100) NULL, user_agent text NULL, customer_note text NULL,
      PRIMARY KEY (id), KEY status (status), KEY date_created (date_created_gmt),
      KEY customer_id_billing_email (customer_id, billing_email(171)),
      KEY billing_email (billing_email(171)),
      KEY type_status_date (type, status, date_created_gmt),
      KEY parent_order_id (parent_order_id), KEY date_updated (date_updated_gmt))""",
    """CREATE TABLE wp_wc_order_addresses (
      id bigint(20) unsigned auto_increment PRIMARY KEY, order_id bigint(20) unsigned NOT NULL,
      address_type varchar(20) NULL, first_name text NULL, last_name text NULL,
      company text NULL, address_1 text NULL, address_2 text NULL, city text NULL,
      state text NULL, postcode text NULL, country text NULL, email varchar(320) NULL,
      phone varchar(100) NULL, KEY order_id (order_id),
      UNIQUE KEY address_type_order_id (address_type, order_id))""",
    """CREATE TABLE wp_wc_orders_meta (
      id bigint(20) unsigned auto_increment PRIMARY KEY, order_id bigint(20) unsigned NULL,
      meta_key varchar(255), meta_value text NULL,
      KEY meta_key_value (meta_key(100), meta_value(82)),
      KEY order_id_meta_key_meta_value (order_id, meta_key(100), meta_value(82)))""",
    """CREATE TABLE wp_woocommerce_order_items (
      order_item_id bigint unsigned NOT NULL auto_increment, order_item_name text NOT NULL,
      order_item_type varchar(200) NOT NULL DEFAULT '', order_id bigint unsigned NOT NULL,
      PRIMARY KEY (order_item_id), KEY order_id (order_id))""",
    """CREATE TABLE wp_woocommerce_order_itemmeta (
      meta_id bigint unsigned NOT NULL auto_increment, order_item_id bigint unsigned NOT NULL,
      meta_key varchar(255) default NULL, meta_value longtext NULL,
      PRIMARY KEY (meta_id), KEY order_item_id (order_item_id), KEY meta_key (meta_key(32)))""",
]
WOO_STATUS = {"shipped": "wc-completed", "processing": "wc-processing", "cancelled": "wc-cancelled"}


def _php_tracking(carrier: str, number: str) -> str:
    """The Shipment Tracking extension's meta value, as PHP's serialize() writes it."""

    def s(text: str) -> str:
        return f's:{len(text.encode())}:"{text}";'

    fields = s("tracking_provider") + s(carrier.lower()) + s("custom_tracking_provider")
    fields += s("") + s("tracking_number") + s(number) + s("date_shipped") + "i:1763700000;"
    return "a:1:{i:0;a:4:{" + fields + "}}"


def woocommerce_rows(conn: sa.Connection, samples: tuple[Sample, ...], first: int = 1) -> None:
    """The samples in WooCommerce's tables, each table in one executemany; line item ids
    from ``first`` times ten (a benchmark inserts in batches)."""
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in WOO_INSERTS}
    item_id = first * 10
    for s in samples:
        rows["orders"].append(
            {
                "id": s.n,
                "status": WOO_STATUS.get(s.status, "wc-processing"),
                "cur": s.currency,
                "total": Decimal(s.total_cents) / 100,
                "email": s.email,
                "placed": PLACED.replace(tzinfo=None),
            }
        )
        rows["addresses"].append({"id": s.n, "postal": s.postal, "email": s.email})
        for name, q, cents in s.items:
            rows["items"].append({"iid": item_id, "name": name, "id": s.n})
            meta = {"_qty": str(q), "_line_total": str(Decimal(q * cents) / 100), "_line_tax": "0"}
            rows["itemmeta"] += [{"iid": item_id, "k": k, "v": v} for k, v in meta.items()]
            item_id += 1
        if s.tracking and s.carrier:
            rows["meta"].append({"id": s.n, "v": _php_tracking(s.carrier, s.tracking)})
    for table, sql in WOO_INSERTS.items():
        if rows[table]:
            conn.execute(sa.text(sql), rows[table])


WOO_INSERTS = {
    "orders": "INSERT INTO wp_wc_orders (id, status, currency, type, tax_amount, total_amount,"
    " billing_email, date_created_gmt) VALUES (:id, :status, :cur, 'shop_order', 0, :total,"
    " :email, :placed)",
    "addresses": "INSERT INTO wp_wc_order_addresses (order_id, address_type, postcode, email)"
    " VALUES (:id, 'billing', :postal, :email)",
    "items": "INSERT INTO wp_woocommerce_order_items (order_item_id, order_item_name,"
    " order_item_type, order_id) VALUES (:iid, :name, 'line_item', :id)",
    "itemmeta": "INSERT INTO wp_woocommerce_order_itemmeta (order_item_id, meta_key, meta_value)"
    " VALUES (:iid, :k, :v)",
    "meta": "INSERT INTO wp_wc_orders_meta (order_id, meta_key, meta_value)"
    " VALUES (:id, '_wc_shipment_tracking_items', :v)",
}


def seed_platform(
    url: str, ddl: list[str], rows: Callable[[sa.Connection, tuple[Sample, ...]], None]
) -> sa.Engine:
    """The platform's tables (our DDL) with the samples in them."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for statement in ddl:
            conn.execute(sa.text(statement))
        rows(conn, SAMPLES)
    return engine


def woocommerce_platform(url: str) -> Platform:
    engine = seed_platform(url, WOOCOMMERCE_DDL, woocommerce_rows)
    source = SqlOrderSource(engine, load_mapping(preset_path("woocommerce")))
    return Platform("woocommerce", source, OrderNumbers("", 4, 6))


# -- Saleor on PostgreSQL --------------------------------------------------------------------

SALEOR_DDL = [
    """CREATE TABLE account_address (
      id serial PRIMARY KEY, first_name varchar(256) NOT NULL DEFAULT '',
      last_name varchar(256) NOT NULL DEFAULT '', street_address_1 varchar(256) NOT NULL
      DEFAULT '', city varchar(256) NOT NULL DEFAULT '', postal_code varchar(20) NOT NULL
      DEFAULT '', country varchar(2) NOT NULL DEFAULT '')""",
    """CREATE TABLE account_user (id serial PRIMARY KEY, email varchar(254) NOT NULL UNIQUE)""",
    """CREATE TABLE order_order (
      id uuid PRIMARY KEY, number integer NOT NULL UNIQUE, created_at timestamptz NOT NULL,
      status varchar(32) NOT NULL, user_id integer NULL REFERENCES account_user (id),
      user_email varchar(254) NOT NULL DEFAULT '', currency varchar(3) NOT NULL,
      total_gross_amount numeric(12, 3) NOT NULL DEFAULT 0,
      total_net_amount numeric(12, 3) NOT NULL DEFAULT 0,
      billing_address_id integer NULL REFERENCES account_address (id),
      shipping_address_id integer NULL REFERENCES account_address (id))""",
    """CREATE TABLE order_orderline (
      id uuid PRIMARY KEY, created_at timestamptz NOT NULL,
      order_id uuid NOT NULL REFERENCES order_order (id), product_name varchar(386) NOT NULL,
      variant_name varchar(255) NOT NULL DEFAULT '', quantity integer NOT NULL,
      currency varchar(3) NOT NULL, unit_price_gross_amount numeric(12, 3) NOT NULL,
      unit_price_net_amount numeric(12, 3) NOT NULL,
      total_price_gross_amount numeric(12, 3) NOT NULL,
      is_shipping_required boolean NOT NULL DEFAULT true,
      is_gift_card boolean NOT NULL DEFAULT false)""",
    """CREATE TABLE order_fulfillment (
      id serial PRIMARY KEY, fulfillment_order integer NOT NULL,
      order_id uuid NOT NULL REFERENCES order_order (id), status varchar(32) NOT NULL,
      tracking_number varchar(255) NOT NULL DEFAULT '', created_at timestamptz NOT NULL)""",
    "CREATE INDEX order_orderline_order_id ON order_orderline (order_id)",
    "CREATE INDEX order_fulfillment_order_id ON order_fulfillment (order_id)",
]
SALEOR_STATUS = {"shipped": "fulfilled", "processing": "unfulfilled", "cancelled": "canceled"}


def saleor_rows(conn: sa.Connection, samples: tuple[Sample, ...], first: int = 1) -> None:
    """The samples in Saleor's tables, each table in one executemany; ids from ``first``."""
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in SALEOR_INSERTS}
    for i, s in enumerate(samples, start=first):
        oid = uuid.UUID(int=i)
        rows["addresses"].append({"id": i, "p": s.postal})
        rows["orders"].append(
            {
                "id": oid,
                "n": s.n,
                "at": PLACED,
                "st": SALEOR_STATUS.get(s.status, "unfulfilled"),
                "email": s.email,
                "cur": s.currency,
                "total": Decimal(s.total_cents) / 100,
                "addr": i,
            }
        )
        for j, (name, q, cents) in enumerate(s.items):
            price = Decimal(cents) / 100
            rows["lines"].append(
                {
                    "id": uuid.uuid4(),
                    "at": PLACED + timedelta(seconds=j),
                    "oid": oid,
                    "name": name,
                    "q": q,
                    "cur": s.currency,
                    "p": price,
                    "t": price * q,
                }
            )
        if s.tracking:
            rows["fulfillments"].append(
                {"oid": oid, "t": s.tracking, "at": PLACED + timedelta(days=1)}
            )
    for table, sql in SALEOR_INSERTS.items():
        if rows[table]:
            conn.execute(sa.text(sql), rows[table])


SALEOR_INSERTS = {
    "addresses": "INSERT INTO account_address (id, postal_code, city) VALUES (:id, :p, 'X')",
    "orders": "INSERT INTO order_order (id, number, created_at, status, user_email, currency,"
    " total_gross_amount, billing_address_id) VALUES (:id, :n, :at, :st, :email, :cur, :total,"
    " :addr)",
    "lines": "INSERT INTO order_orderline (id, created_at, order_id, product_name, quantity,"
    " currency, unit_price_gross_amount, unit_price_net_amount, total_price_gross_amount)"
    " VALUES (:id, :at, :oid, :name, :q, :cur, :p, :p, :t)",
    "fulfillments": "INSERT INTO order_fulfillment (fulfillment_order, order_id, status,"
    " tracking_number, created_at) VALUES (1, :oid, 'fulfilled', :t, :at)",
}


def saleor_platform(url: str) -> Platform:
    engine = seed_platform(url, SALEOR_DDL, saleor_rows)
    source = SqlOrderSource(engine, load_mapping(preset_path("saleor")))
    return Platform("saleor", source, OrderNumbers("", 4, 6), has_carrier=False)


# -- Shopify (the fake Admin API) --------------------------------------------------------------


def shopify_order(s: Sample) -> dict[str, Any]:
    """An Order object as the Admin GraphQL API returns it for our query."""

    def money(cents: int) -> dict[str, Any]:
        return {"shopMoney": {"amount": f"{cents / 100:.2f}", "currencyCode": s.currency}}

    fulfillments = []
    if s.tracking:
        fulfillments.append(
            {
                "createdAt": (PLACED + timedelta(days=1)).isoformat().replace("+00:00", "Z"),
                "displayStatus": "FULFILLED",
                "deliveredAt": None,
                "estimatedDeliveryAt": None,
                "trackingInfo": [{"company": s.carrier, "number": s.tracking}],
                "events": {
                    "nodes": [
                        {
                            "status": st.upper(),
                            "happenedAt": at.isoformat().replace("+00:00", "Z"),
                            "city": where,
                        }
                        for st, at, where in s.events
                    ]
                },
            }
        )
    return {
        "name": f"#{s.n}",
        "createdAt": PLACED.isoformat().replace("+00:00", "Z"),
        "cancelledAt": PLACED.isoformat() if s.status == "cancelled" else None,
        "displayFinancialStatus": "AUTHORIZED" if s.status == "processing" else "PAID",
        "email": s.email,
        "billingAddress": {"zip": s.postal},
        "shippingAddress": {"zip": s.postal},
        "totalPriceSet": money(s.total_cents),
        "lineItems": {
            "nodes": [
                {"name": name, "quantity": q, "originalUnitPriceSet": money(cents)}
                for name, q, cents in s.items
            ]
        },
        "fulfillments": fulfillments,
    }


def shopify_platform(make_source: Callable[[list[dict[str, Any]]], OrderSource]) -> Platform:
    source = make_source([shopify_order(s) for s in SAMPLES])
    return Platform("shopify", source, OrderNumbers("#", 4, 6), has_events=True)
