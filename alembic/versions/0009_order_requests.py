"""requests about an order (cancel, return, a new delivery address), their delivery to
the shop, and what happened to each; order numbers up to 32 characters (a shop's own
prefix), and the request a session is asked to confirm

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("order_access") as table:
        table.alter_column("pending_order", existing_type=sa.String(16), type_=sa.String(32))
        table.alter_column("verified_order", existing_type=sa.String(16), type_=sa.String(32))
        table.add_column(sa.Column("pending_request", sa.JSON))
    op.create_table(
        "order_requests",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("reference", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("order_number", sa.String(32), nullable=False),
        sa.Column("session_id", sa.String(64)),
        sa.Column("details", sa.JSON),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("delivery", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", TIMESTAMP),
        sa.Column("last_error", sa.String(200)),
        sa.Column("delivered_at", TIMESTAMP),
    )
    op.create_index("ix_order_requests_created", "order_requests", ["created_at"])
    op.create_index("ix_order_requests_due", "order_requests", ["delivery", "next_attempt_at"])
    op.create_table(
        "order_request_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(32), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("detail", sa.String(300)),
    )
    op.create_index("ix_order_request_log_request", "order_request_log", ["request_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_order_request_log_request", table_name="order_request_log")
    op.drop_table("order_request_log")
    op.drop_index("ix_order_requests_due", table_name="order_requests")
    op.drop_index("ix_order_requests_created", table_name="order_requests")
    op.drop_table("order_requests")
    with op.batch_alter_table("order_access") as table:
        table.drop_column("pending_request")
        table.alter_column("verified_order", existing_type=sa.String(32), type_=sa.String(16))
        table.alter_column("pending_order", existing_type=sa.String(32), type_=sa.String(16))
