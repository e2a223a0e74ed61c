"""CSV exports for editors: the feedback, and the questions the bot did not answer.

Cells a spreadsheet would read as a formula (starting with =, +, -, @, tab or carriage
return) get a leading apostrophe: customers' text is data, never a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from service.admin.inbox import declined, entry_ids
from service.db.tables import feedback, iso_utc

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()


def feedback_csv(engine: sa.Engine, since: datetime) -> str:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(feedback)
            .where(feedback.c.created_at >= since)
            .order_by(feedback.c.created_at.desc())
        ).all()
    return to_csv(
        ["created_at", "rating", "comment", "question", "entries"],
        (
            [
                iso_utc(r.created_at),
                r.rating,
                r.comment,
                r.question,
                " ".join(entry_ids(r.retrieved)),
            ]
            for r in rows
        ),
    )


def unanswered_csv(engine: sa.Engine, since: datetime) -> str:
    query = declined(since)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(query.selected_columns.created_at.desc())).all()
    return to_csv(
        ["created_at", "mode", "question", "entries considered"],
        (
            [iso_utc(r.created_at), r.mode, r.content, " ".join(entry_ids(r.retrieved))]
            for r in rows
        ),
    )
