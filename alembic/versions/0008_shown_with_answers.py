"""what the page showed with each answer (its citation chips, "did you mean" entries and
the form it offered), so a reloaded conversation looks as it did

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("chat_messages", sa.Column("shown", sa.JSON))


def downgrade() -> None:
    op.drop_column("chat_messages", "shown")
