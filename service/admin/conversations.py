"""Conversations for "why this answer": found by their text, date, answer mode or rating,
then each turn with its mode and trace (service/chat/trace.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from service.db.tables import chat_messages, feedback, iso_utc

MAX_RESULTS = 50


def find(
    engine: sa.Engine,
    since: datetime,
    text: str | None = None,
    mode: str | None = None,
    rating: str | None = None,
) -> list[dict[str, Any]]:
    """The most recent conversations with a message matching all the given filters."""
    m = chat_messages
    query = sa.select(m.c.session_id, sa.func.max(m.c.created_at).label("last")).where(
        m.c.created_at >= since
    )
    if text:
        # LIKE wildcards in the customer's search text are literal characters
        escaped = text.lower().replace("!", "!!").replace("%", "!%").replace("_", "!_")
        query = query.where(sa.func.lower(m.c.content).like(f"%{escaped}%", escape="!"))
    if mode:
        query = query.where(m.c.mode == mode)
    if rating:
        rated = sa.select(feedback.c.message_id).where(feedback.c.rating == rating)
        query = query.where(m.c.id.in_(rated))
    query = query.group_by(m.c.session_id).order_by(sa.desc("last")).limit(MAX_RESULTS)
    with engine.connect() as conn:
        sessions = conn.execute(query).all()
        out = []
        for row in sessions:
            first = conn.execute(
                sa.select(m.c.content)
                .where(m.c.session_id == row.session_id, m.c.role == "user")
                .order_by(m.c.created_at)
                .limit(1)
            ).scalar()
            out.append({"session_id": row.session_id, "last_at": iso_utc(row.last), "first": first})
    return out


def turns(engine: sa.Engine, session_id: str) -> list[dict[str, Any]]:
    """Each question with its answer, mode, trace and rating, in order."""
    m = chat_messages
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(m)
            .where(m.c.session_id == session_id)
            .order_by(m.c.created_at, m.c.role.desc())
        ).all()
        ratings = dict(
            conn.execute(
                sa.select(feedback.c.message_id, feedback.c.rating).where(
                    feedback.c.message_id.in_([r.id for r in rows if r.role == "assistant"])
                )
            ).all()
        )
    out: list[dict[str, Any]] = []
    question = None
    for r in rows:
        if r.role == "user":
            question = r.content
            continue
        out.append(
            {
                "at": iso_utc(r.created_at),
                "question": question,
                "answer": r.content,
                "mode": r.mode,
                "version": r.index_version,
                "rating": ratings.get(r.id),
                "trace": r.trace,
            }
        )
    return out
