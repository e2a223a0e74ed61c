"""attempt counters shared by all workers; session failures move there

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "attempt_counters",
        sa.Column("scope", sa.String(16), primary_key=True),
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("window_start", TIMESTAMP, nullable=False),
        sa.Column("locked_until", TIMESTAMP),
    )
    op.create_index("ix_attempt_counters_window", "attempt_counters", ["window_start"])
    # Session failures are counted atomically in attempt_counters now.
    with op.batch_alter_table("order_access") as batch:
        batch.drop_column("failed_attempts")
        batch.drop_column("locked_until")


def downgrade() -> None:
    with op.batch_alter_table("order_access") as batch:
        batch.add_column(
            sa.Column("failed_attempts", sa.Integer, nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("locked_until", TIMESTAMP))
    op.drop_index("ix_attempt_counters_window", table_name="attempt_counters")
    op.drop_table("attempt_counters")
