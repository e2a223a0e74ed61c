"""per-client limits and one vote per answer: token buckets shared by every worker and
replica, feedback unique per answer (earlier duplicates folded into the latest), and the
indexes that find a conversation's or an address's recent handoff

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_buckets",
        sa.Column("key", sa.String(80), primary_key=True),
        sa.Column("tat", sa.Double, nullable=False),
        sa.Column("ok", sa.Integer, nullable=False),
    )
    # Keep each answer's latest vote (the derived table lets MySQL read the table it
    # deletes from).
    op.execute(
        "DELETE FROM feedback WHERE id NOT IN "
        "(SELECT keep FROM (SELECT MAX(id) AS keep FROM feedback GROUP BY message_id) AS latest)"
    )
    op.create_index("ux_feedback_message", "feedback", ["message_id"], unique=True)
    op.create_index("ix_handoff_requests_session", "handoff_requests", ["session_id", "created_at"])
    op.create_index("ix_handoff_requests_email", "handoff_requests", ["email", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_handoff_requests_email", "handoff_requests")
    op.drop_index("ix_handoff_requests_session", "handoff_requests")
    if op.get_bind().dialect.name in ("mysql", "mariadb"):
        # MariaDB's foreign key on message_id now leans on the unique index: give it
        # a plain one before the unique one goes.
        op.create_index("ix_feedback_message", "feedback", ["message_id"])
    op.drop_index("ux_feedback_message", "feedback")
    op.drop_table("rate_buckets")
