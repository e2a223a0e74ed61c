"""Personal data: masked in every log line the real server prints, masked before it is
stored, and deleted after the retention period."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from cli.main import main
from service.config import Settings
from service.db.tables import chat_messages, chat_sessions, feedback
from service.llm.base import ChatMessage, GenerationOptions
from tests.fakes.instant_model import InstantChatModel

pytestmark = pytest.mark.integration
EMAIL = "carla.customer@example.com"


class LeakyModel(InstantChatModel):
    """Fails with the customer's message in its exception, as a careless adapter might."""

    async def stream(
        self, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> AsyncIterator[str]:
        raise RuntimeError(f"cannot answer {messages[-1].content!r}")
        yield ""


def test_the_real_server_masks_every_log_line(
    seeded: Settings, live_server: Callable[..., str], capfd: pytest.CaptureFixture[str]
) -> None:
    base = live_server(LeakyModel(), chat={"answer_mode": "generate"}, logging={"format": "json"})
    capfd.readouterr()
    message = f"I am {EMAIL}, postcode 10115, Seestraße 12: how long do I have to return an item?"
    r = httpx.post(f"{base}/v1/chat", json={"message": message}, timeout=30)
    assert r.status_code == 200 and r.json()["mode"] == "fallback"
    r = httpx.post(
        f"{base}/v1/orders/lookup",
        json={"order_number": "NW-200002", "email": EMAIL},
        timeout=30,
    )
    assert r.status_code == 403
    time.sleep(0.2)  # let the access log line be written
    err = capfd.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert lines, err
    assert EMAIL not in err and "10115" not in err and "Seestraße 12" not in err
    # one access line per request, through the same handler and format
    assert sum(x["logger"] == "faqbot.access" for x in lines) >= 2
    adapter = [x for x in lines if x["logger"] == "faqbot.chat" and "exception" in x]
    assert adapter and "c***@example.com" in adapter[0]["exception"]  # the traceback too


def test_stored_history_and_feedback_are_masked(seeded: Settings, make_client: Callable) -> None:  # type: ignore[type-arg]
    client = make_client(InstantChatModel())
    body = client.post(
        "/v1/chat",
        json={"message": f"my email is {EMAIL}, zip 10115: how long do I have to return?"},
    ).json()
    r = client.post(
        "/v1/feedback",
        json={"message_id": body["message_id"], "rating": "down", "comment": f"write {EMAIL}"},
    )
    assert r.status_code == 201
    engine = sa.create_engine(seeded.db.url)
    with engine.connect() as conn:
        stored = [row[0] for row in conn.execute(sa.select(chat_messages.c.content))]
        comment, question = conn.execute(sa.select(feedback.c.comment, feedback.c.question)).one()
    engine.dispose()
    text = " ".join([*stored, comment, question])
    assert EMAIL not in text and "10115" not in text
    assert "c***@example.com" in text and "zip ***" in text


def test_purge_deletes_history_past_the_retention(
    seeded: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    engine = sa.create_engine(seeded.db.url)
    with engine.begin() as conn:
        for session, age in (("old", 40), ("new", 2)):
            created = now - timedelta(days=age)
            conn.execute(chat_sessions.insert().values(id=session, created_at=created))
            for role in ("user", "assistant"):
                conn.execute(
                    chat_messages.insert().values(
                        id=f"{session}-{role}",
                        session_id=session,
                        role=role,
                        content="q",
                        created_at=created,
                    )
                )
            conn.execute(
                feedback.insert().values(
                    message_id=f"{session}-assistant",
                    rating="down",
                    question="q",
                    created_at=created,
                )
            )
    monkeypatch.setenv("FAQBOT_DB__URL", seeded.db.url)
    assert main(["db", "purge"]) == 0
    with engine.connect() as conn:
        sessions = {r[0] for r in conn.execute(sa.select(chat_sessions.c.id))}
        messages = {r[0] for r in conn.execute(sa.select(chat_messages.c.session_id))}
        rated = {r[0] for r in conn.execute(sa.select(feedback.c.message_id))}
    engine.dispose()
    assert sessions == {"new"} and messages == {"new"} and rated == {"new-assistant"}
    assert main(["db", "purge", "--days", "1"]) == 0  # a shorter retention on request
