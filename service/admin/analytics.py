"""Figures per day for the console, from the chat history: questions, answer modes,
abstain and thumbs-down rates, deflection and latency; and one PNG of them (matplotlib,
rendered on the server: no charting code in the browser, nothing from a CDN).

Deflection: the share of conversations that ended without a request to talk to a person
and whose questions were not asked again (the same masked text) in another conversation
within 7 days.
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa

from service.db.tables import as_utc, chat_messages, feedback, handoff_requests

REPEAT_WINDOW = timedelta(days=7)


@dataclass
class Day:
    day: date
    questions: int = 0
    modes: Counter[str] = field(default_factory=Counter)
    thumbs_down: int = 0
    conversations: int = 0
    deflected: int = 0
    latency_ms: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        rated = self.questions or 1
        lat = np.array(self.latency_ms) if self.latency_ms else None
        return {
            "day": self.day.isoformat(),
            "questions": self.questions,
            "modes": dict(self.modes),
            "abstain_rate": round(self.modes.get("abstained", 0) / rated, 4),
            "thumbs_down_rate": round(self.thumbs_down / rated, 4),
            "deflection": round(self.deflected / self.conversations, 4)
            if self.conversations
            else None,
            "p50_ms": round(float(np.percentile(lat, 50)), 1) if lat is not None else None,
            "p95_ms": round(float(np.percentile(lat, 95)), 1) if lat is not None else None,
        }


def daily(engine: sa.Engine, since: datetime) -> list[dict[str, Any]]:
    m = chat_messages
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(m.c.session_id, m.c.role, m.c.content, m.c.mode, m.c.created_at, m.c.trace)
            .where(m.c.created_at >= since)
            .order_by(m.c.created_at)
        ).all()
        downs = conn.execute(
            sa.select(feedback.c.created_at).where(
                feedback.c.rating == "down", feedback.c.created_at >= since
            )
        ).all()
        handed = {
            r[0]
            for r in conn.execute(
                sa.select(handoff_requests.c.session_id).where(
                    handoff_requests.c.created_at >= since
                )
            )
        }
    days: dict[date, Day] = defaultdict(lambda: Day(date.min))
    sessions: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        when = as_utc(r.created_at) or r.created_at
        day = days[when.date()]
        day.day = when.date()
        if r.role == "user":
            day.questions += 1
            sessions[r.session_id].append((when, r.content))
        else:
            day.modes[r.mode or "unknown"] += 1
            total = ((r.trace or {}).get("timings") or {}).get("total_ms")
            if isinstance(total, (int, float)):
                day.latency_ms.append(float(total))
    for (when,) in downs:
        moment = as_utc(when) or when
        if moment.date() in days:
            days[moment.date()].thumbs_down += 1
    _deflection(days, sessions, handed)
    return [days[d].as_dict() for d in sorted(days)]


def _deflection(days: dict[date, Day], sessions: dict[str, list[Any]], handed: set[str]) -> None:
    asked: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for session, questions in sessions.items():
        for when, text in questions:
            asked[text.strip().lower()].append((when, session))
    for session, questions in sessions.items():
        started = questions[0][0]
        day = days[started.date()]
        day.conversations += 1
        repeated = any(
            other != session and when < later <= when + REPEAT_WINDOW
            for when, text in questions
            for later, other in asked[text.strip().lower()]
        )
        if session not in handed and not repeated:
            day.deflected += 1


def chart_png(days: list[dict[str, Any]]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    import matplotlib.pyplot as plt

    x = [d["day"][5:] for d in days]  # MM-DD
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), dpi=100)
    modes = sorted({m for d in days for m in d["modes"]})
    bottom = np.zeros(len(days))
    for mode in modes:
        values = np.array([d["modes"].get(mode, 0) for d in days])
        axes[0, 0].bar(x, values, bottom=bottom, label=mode)
        bottom += values
    axes[0, 0].set_title("Answers per day, by mode")
    axes[0, 0].legend(fontsize=8)
    axes[0, 1].plot(x, [d["abstain_rate"] for d in days], marker="o", label="declined")
    axes[0, 1].plot(x, [d["thumbs_down_rate"] for d in days], marker="s", label="thumbs down")
    axes[0, 1].set_title("Share of questions")
    axes[0, 1].legend(fontsize=8)
    axes[1, 0].plot(x, [d["deflection"] for d in days], marker="o", color="green")
    axes[1, 0].set_title("Deflection (no person asked, not asked again)")
    axes[1, 0].set_ylim(0, 1.05)
    axes[1, 1].plot(x, [d["p50_ms"] for d in days], marker="o", label="p50")
    axes[1, 1].plot(x, [d["p95_ms"] for d in days], marker="s", label="p95")
    axes[1, 1].set_title("Answer time (ms)")
    axes[1, 1].legend(fontsize=8)
    for ax in axes.flat:
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out.getvalue()
