"""The outcome figures against a scripted set of conversations whose outcomes are known:
resolved (confirmed, assumed), handed off (asked, declined, thumbs down), durable, time
to the first human reply, CSAT; per day, in the API and the CSV."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from service.admin import outcomes
from service.admin.accounts import AdminAccounts
from service.config import Settings
from service.db.engine import make_engine
from service.db.tables import (
    chat_messages,
    chat_sessions,
    feedback,
    handoff_messages,
    handoff_requests,
)
from tests.fakes.instant_model import InstantChatModel

pytestmark = pytest.mark.integration
DAY = datetime(2026, 11, 30, 9, tzinfo=UTC)


def _script(engine: sa.Engine) -> None:
    """(session, minutes after DAY, role, text, mode); thumbs; handoffs with replies."""
    turns = [
        ("s1", 0, "user", "how long do i have to return an item?", None),
        ("s1", 0, "assistant", "30 days.", "canonical"),
        ("s2", 5, "user", "where do i send a return?", None),
        ("s2", 5, "assistant", "To our warehouse.", "canonical"),
        ("s3", 10, "user", "do you sell skis?", None),
        ("s3", 10, "assistant", "I'm sorry...", "abstained"),
        ("s4", 20, "user", "can i pay later?", None),
        ("s4", 20, "assistant", "Yes, with Klarna.", "canonical"),
        ("s6", 30, "user", "i want to talk to a person", None),
        ("s6", 30, "assistant", "Of course...", "handoff"),
        ("s5", 2 * 24 * 60, "user", "where do i send a return?", None),  # s2 asked again
        ("s5", 2 * 24 * 60, "assistant", "To our warehouse.", "canonical"),
    ]
    ids: dict[tuple[str, str], str] = {}
    with engine.begin() as conn:
        for session in {t[0] for t in turns}:
            conn.execute(chat_sessions.insert().values(id=session, created_at=DAY))
        for session, minutes, role, text, mode in turns:
            mid = uuid.uuid4().hex
            ids[(session, role)] = mid
            conn.execute(
                chat_messages.insert().values(
                    id=mid,
                    session_id=session,
                    role=role,
                    content=text,
                    mode=mode,
                    created_at=DAY + timedelta(minutes=minutes),
                )
            )
        for session, rating, minutes in (("s1", "up", 1), ("s4", "down", 21)):
            conn.execute(
                feedback.insert().values(
                    message_id=ids[(session, "assistant")],
                    rating=rating,
                    question="q",
                    created_at=DAY + timedelta(minutes=minutes),
                )
            )
        for session, minutes, reply_after_s in (("s3", 11, 120), ("s4", 22, None), ("s6", 31, 60)):
            hid = uuid.uuid4().hex
            at = DAY + timedelta(minutes=minutes)
            conn.execute(
                handoff_requests.insert().values(
                    id=hid,
                    session_id=session,
                    name="C",
                    email="c@example.com",
                    message="help",
                    created_at=at,
                    status="closed",
                )
            )
            if reply_after_s is not None:
                conn.execute(
                    handoff_messages.insert().values(
                        handoff_id=hid,
                        session_id=session,
                        author="agent",
                        agent="anna",
                        text="Hello",
                        created_at=at + timedelta(seconds=reply_after_s),
                    )
                )


def test_the_figures_of_a_scripted_set_of_conversations(chat_settings: Settings) -> None:
    engine = make_engine(chat_settings.db.url)
    _script(engine)
    first, later = outcomes.daily(engine, DAY - timedelta(days=1))
    assert first == {
        "day": "2026-11-30",
        "conversations": 5,
        "resolved_confirmed": 1,  # s1: thumbs up
        "resolved_assumed": 1,  # s2: left without a word
        "handed_off_asked": 1,  # s6
        "handed_off_declined": 1,  # s3
        "handed_off_thumbs_down": 1,  # s4
        "durable": 1,  # s1; s2's question came back in s5
        "first_human_reply_s": 90.0,  # median of 120 and 60; s4 had no reply
        "csat": 0.5,
        "rated": 2,
    }
    assert later["day"] == "2026-12-02" and later["resolved_assumed"] == 1
    assert later["durable"] == 1 and later["csat"] is None
    csv = outcomes.outcomes_csv(engine, DAY - timedelta(days=1)).splitlines()
    assert csv[0].startswith("day,conversations,resolved_confirmed") and len(csv) == 3
    engine.dispose()


def test_the_console_serves_them(
    make_client: Callable[..., TestClient], faq_dir: Path, chat_settings: Settings
) -> None:
    AdminAccounts(make_engine(chat_settings.db.url)).create_user(
        "erika", "editor", "a long enough password 1"
    )
    client = make_client(
        InstantChatModel(),
        admin={"enabled": True, "faq_dir": faq_dir},
        metrics={"public": True},
    )
    client.post("/v1/chat", json={"message": "How long do I have to return an item?"})
    scraped = client.get("/metrics").text  # today's figures, as Prometheus sees them
    assert 'faqbot_conversations_today{outcome="resolved_assumed"} 1.0' in scraped
    _script(make_engine(chat_settings.db.url))
    client.post("/admin/api/login", json={"name": "erika", "password": "a long enough password 1"})
    days = client.get("/admin/api/outcomes", params={"days": 365}).json()["days"]
    assert sum(d["conversations"] for d in days) == 7  # the scripted six and today's one
    exported = client.get("/admin/api/export/outcomes.csv")
    assert exported.status_code == 200 and "handed_off_declined" in exported.text
