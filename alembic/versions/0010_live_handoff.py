"""a person takes over: handoff requests get a status and an agent, and the messages
between the agent and the customer

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("handoff_requests") as table:
        table.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="open"))
        table.add_column(sa.Column("agent", sa.String(64)))
        table.add_column(sa.Column("claimed_at", TIMESTAMP))
        table.add_column(sa.Column("closed_at", TIMESTAMP))
        table.add_column(sa.Column("customer_seen_at", TIMESTAMP))
    op.create_table(
        "handoff_messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("handoff_id", sa.String(32), nullable=False),
        sa.Column("session_id", sa.String(64)),
        sa.Column("author", sa.String(16), nullable=False),
        sa.Column("agent", sa.String(64)),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("mailed_at", TIMESTAMP),
    )
    op.create_index("ix_handoff_messages_session", "handoff_messages", ["session_id", "id"])
    op.create_index("ix_handoff_messages_handoff", "handoff_messages", ["handoff_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_handoff_messages_handoff", table_name="handoff_messages")
    op.drop_index("ix_handoff_messages_session", table_name="handoff_messages")
    op.drop_table("handoff_messages")
    with op.batch_alter_table("handoff_requests") as table:
        for column in ("customer_seen_at", "closed_at", "claimed_at", "agent", "status"):
            table.drop_column(column)
