"""What became of each conversation, per day (by the day it started), from the chat
history, the thumbs and the handoffs:

- resolved by the bot, **confirmed** (the customer gave a thumbs up and no thumbs down)
  or **assumed** (they left without asking for a person and without a thumbs down).
  Assumed over-counts: a customer who gave up and left counts as resolved.
- **handed off**, by reason: **asked** (they asked for a person without a declined
  answer or a thumbs down before), **declined** (an answer before it was a decline),
  **thumbs down** (they rated an answer down before). A conversation counts once, by
  the first reason in that order: declined, thumbs down, asked.
- **durable**: resolved by the bot, and none of its questions asked again (the same
  masked text) in another conversation within 7 days. Over-counts a customer who comes
  back rephrasing; under-counts when another customer asks the same words.
- **time to first human reply**: from the handoff request to the agent's first reply
  (median, per day), for handoffs a person answered in the chat.
- **CSAT**: thumbs up among the answers rated (up / (up + down)); rated answers are a
  minority and skew to the extremes.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from service.admin.exports import to_csv
from service.db.tables import as_utc, chat_messages, feedback, handoff_requests
from service.live_handoff import first_replies

AGAIN_WITHIN = timedelta(days=7)
COLUMNS = (
    "day",
    "conversations",
    "resolved_confirmed",
    "resolved_assumed",
    "handed_off_asked",
    "handed_off_declined",
    "handed_off_thumbs_down",
    "durable",
    "first_human_reply_s",
    "csat",
    "rated",
)


@dataclass
class Conversation:
    started: datetime
    questions: list[str] = field(default_factory=list)
    declines: list[datetime] = field(default_factory=list)  # when an answer declined
    downs: list[datetime] = field(default_factory=list)  # when an answer was rated down
    up: int = 0
    handoff_at: datetime | None = None
    first_reply_s: float | None = None

    @property
    def down(self) -> int:
        return len(self.downs)

    def outcome(self) -> str:
        at = self.handoff_at
        if at is not None:
            if any(when <= at for when in self.declines):
                return "handed_off_declined"
            if any(when <= at for when in self.downs):
                return "handed_off_thumbs_down"
            return "handed_off_asked"
        if self.downs:
            return "unresolved"  # rated down, no person asked: neither
        return "resolved_confirmed" if self.up else "resolved_assumed"


def conversations(engine: sa.Engine, since: datetime) -> dict[str, Conversation]:
    m = chat_messages
    found: dict[str, Conversation] = {}
    with engine.connect() as conn:
        for r in conn.execute(
            sa.select(m.c.session_id, m.c.role, m.c.content, m.c.mode, m.c.created_at)
            .where(m.c.created_at >= since)
            .order_by(m.c.created_at)
        ):
            when = as_utc(r.created_at) or r.created_at
            c = found.setdefault(r.session_id, Conversation(when))
            if r.role == "user":
                c.questions.append(r.content.strip().lower())
            elif r.mode == "abstained":
                c.declines.append(when)
        votes = sa.select(m.c.session_id, feedback.c.rating, feedback.c.created_at).join(
            m, m.c.id == feedback.c.message_id
        )
        for v in conn.execute(votes.where(feedback.c.created_at >= since)):
            rated = found.get(v.session_id)
            if rated is None:
                continue
            if v.rating == "up":
                rated.up += 1
            else:
                rated.downs.append(as_utc(v.created_at) or v.created_at)
        _handoffs(conn, found, since)
    return found


def _handoffs(conn: sa.Connection, found: dict[str, Conversation], since: datetime) -> None:
    h = handoff_requests
    first = first_replies()
    rows = conn.execute(
        sa.select(h.c.session_id, h.c.created_at, first.c.at)
        .outerjoin(first, first.c.handoff_id == h.c.id)
        .where(h.c.created_at >= since)
        .order_by(h.c.created_at)
    ).all()
    for r in rows:
        c = found.get(r.session_id)
        if c is None or c.handoff_at is not None:
            continue
        c.handoff_at = as_utc(r.created_at) or r.created_at
        if r.at is not None:
            c.first_reply_s = ((as_utc(r.at) or r.at) - c.handoff_at).total_seconds()


def daily(engine: sa.Engine, since: datetime) -> list[dict[str, Any]]:
    found = conversations(engine, since)
    asked: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for session, c in found.items():
        for text in c.questions:
            asked[text].append((c.started, session))
    days: dict[date, dict[str, Any]] = {}
    replies: dict[date, list[float]] = defaultdict(list)
    for session, c in found.items():
        day = days.setdefault(
            c.started.date(), dict.fromkeys(COLUMNS[1:8], 0) | {"up": 0, "down": 0}
        )
        day["conversations"] += 1
        outcome = c.outcome()
        if outcome in day:
            day[outcome] += 1
        again = any(
            other != session and c.started < later <= c.started + AGAIN_WITHIN
            for text in c.questions
            for later, other in asked[text]
        )
        if outcome.startswith("resolved") and not again:
            day["durable"] += 1
        day["up"] += c.up
        day["down"] += c.down
        if c.first_reply_s is not None:
            replies[c.started.date()].append(c.first_reply_s)
    out = []
    for d in sorted(days):
        day = days[d]
        up, down = day.pop("up"), day.pop("down")
        rated = up + down
        out.append(
            {
                "day": d.isoformat(),
                **day,
                "first_human_reply_s": round(statistics.median(replies[d]), 1)
                if replies[d]
                else None,
                "csat": round(up / rated, 4) if rated else None,
                "rated": rated,
            }
        )
    return out


def outcomes_csv(engine: sa.Engine, since: datetime) -> str:
    rows = daily(engine, since)
    return to_csv(list(COLUMNS), ([r[c] for c in COLUMNS] for r in rows))
