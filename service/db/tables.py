"""Table definitions, used by the queries. The schema itself is created by the Alembic
migrations in alembic/versions/, which must stay in step with this file (a test checks)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

chat_sessions = sa.Table(
    "chat_sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

chat_messages = sa.Table(
    "chat_messages",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "session_id",
        sa.String(64),
        sa.ForeignKey("chat_sessions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("mode", sa.String(16)),
    # The question's retrieval: [{"id", "score"}], so editors can find weak entries.
    sa.Column("retrieved", sa.JSON),
    sa.Column("index_version", sa.String(32)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_chat_messages_session_created", "session_id", "created_at"),
)

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "message_id",
        sa.String(64),
        sa.ForeignKey("chat_messages.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("rating", sa.String(8), nullable=False),
    sa.Column("comment", sa.Text),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("retrieved", sa.JSON),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_feedback_rating", "rating"),
)
