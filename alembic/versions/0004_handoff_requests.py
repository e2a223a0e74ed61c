"""handoff requests: customers asking for a person, with their conversation

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "handoff_requests",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("session_id", sa.String(64)),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("conversation", sa.JSON),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("mailed_at", TIMESTAMP),
    )
    op.create_index("ix_handoff_requests_created", "handoff_requests", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_handoff_requests_created", table_name="handoff_requests")
    op.drop_table("handoff_requests")
