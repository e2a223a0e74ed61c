"""handoffs handed to a helpdesk (Chatwoot): the conversation there, the replies that
came from there, and what is still to be sent

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("handoff_requests") as table:
        table.add_column(sa.Column("helpdesk", sa.String(16)))
        table.add_column(sa.Column("external_id", sa.String(64)))
        table.add_column(sa.Column("external_contact", sa.String(128)))
    op.create_index(
        "ix_handoff_requests_external", "handoff_requests", ["helpdesk", "external_id"]
    )
    with op.batch_alter_table("handoff_messages") as table:
        table.add_column(sa.Column("external_id", sa.String(64)))
    op.create_index(
        "ux_handoff_messages_external",
        "handoff_messages",
        ["handoff_id", "external_id"],
        unique=True,
    )
    op.create_table(
        "helpdesk_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("handoff_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("last_error", sa.String(200)),
    )
    op.create_index("ix_helpdesk_outbox_due", "helpdesk_outbox", ["state", "next_attempt_at"])
    op.create_index("ix_helpdesk_outbox_handoff", "helpdesk_outbox", ["handoff_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_helpdesk_outbox_handoff", table_name="helpdesk_outbox")
    op.drop_index("ix_helpdesk_outbox_due", table_name="helpdesk_outbox")
    op.drop_table("helpdesk_outbox")
    op.drop_index("ux_handoff_messages_external", table_name="handoff_messages")
    with op.batch_alter_table("handoff_messages") as table:
        table.drop_column("external_id")
    op.drop_index("ix_handoff_requests_external", table_name="handoff_requests")
    with op.batch_alter_table("handoff_requests") as table:
        for column in ("external_contact", "external_id", "helpdesk"):
            table.drop_column(column)
