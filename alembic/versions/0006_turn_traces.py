"""why this answer: each answer's trace (candidates and their scores, thresholds, the
prompt sent, timings), for the console

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("chat_messages", sa.Column("trace", sa.JSON))


def downgrade() -> None:
    op.drop_column("chat_messages", "trace")
