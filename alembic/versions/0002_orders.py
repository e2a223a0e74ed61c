"""customers, orders, items, shipments with status history, order access per session

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Microsecond precision on MariaDB/MySQL too (their DATETIME keeps whole seconds by default).
TIMESTAMP = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("street", sa.String(200), nullable=False),
        sa.Column("city", sa.String(100), nullable=False),
        sa.Column("postal_code", sa.String(16), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
    )
    op.create_index("ux_customers_email", "customers", ["email"], unique=True)
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("order_number", sa.String(16), nullable=False),
        sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("placed_at", TIMESTAMP, nullable=False),
        sa.Column("expected_delivery", sa.Date),
        sa.Column("delivered_at", TIMESTAMP),
        sa.Column("total_cents", sa.Integer, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
    )
    # The lookup is by order number: unique index, so it is one index probe.
    op.create_index("ux_orders_order_number", "orders", ["order_number"], unique=True)
    op.create_index("ix_orders_customer", "orders", ["customer_id"])
    op.create_table(
        "order_items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "order_id", sa.Integer, sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("sku", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_price_cents", sa.Integer, nullable=False),
    )
    op.create_index("ix_order_items_order", "order_items", ["order_id"])
    op.create_table(
        "shipments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "order_id", sa.Integer, sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("carrier", sa.String(32), nullable=False),
        sa.Column("tracking_number", sa.String(64), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
    )
    op.create_index("ix_shipments_order", "shipments", ["order_id"])
    op.create_table(
        "shipment_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "shipment_id",
            sa.Integer,
            sa.ForeignKey("shipments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("occurred_at", TIMESTAMP, nullable=False),
        sa.Column("location", sa.String(100)),
    )
    op.create_index(
        "ix_shipment_events_shipment", "shipment_events", ["shipment_id", "occurred_at"]
    )
    op.create_table(
        "order_access",
        sa.Column("session_id", sa.String(64), primary_key=True),
        sa.Column("pending_order", sa.String(16)),
        sa.Column("verified_order", sa.String(16)),
        sa.Column("verified_until", TIMESTAMP),
        sa.Column("failed_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", TIMESTAMP),
    )


def downgrade() -> None:
    op.drop_table("order_access")
    op.drop_table("shipment_events")
    op.drop_table("shipments")
    op.drop_table("order_items")
    op.drop_table("orders")
    op.drop_table("customers")
