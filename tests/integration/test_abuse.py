"""One client must not degrade everyone (issue 21): per-client limits on every customer
entry point, through the real server and real sockets from distinct loopback addresses;
one handoff per conversation and one vote per answer; and what a hostile client types
gets a 422, never a 500 or a broken mail."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from service.config import RateLimit, Settings
from tests.fakes.instant_model import InstantChatModel
from tests.live_server import free_port

pytestmark = pytest.mark.integration
RETURNS = "How long do I have to return an item?"
KEY = "test-key-0123456789abcdef"
SHOP = "https://shop.example"
# make_app copies settings groups without validating them: RateLimit objects, not dicts
TIGHT = {
    "chat_per_address": RateLimit(per_minute=6, burst=4),
    "chat_per_session": RateLimit(per_minute=6, burst=3),
    "feedback_per_address": RateLimit(per_minute=60, burst=10),
    "handoff_per_address": RateLimit(per_minute=0.2, burst=3),
}


def client_at(address: str) -> httpx.Client:
    """A client whose requests come from `address` (any 127.x address reaches the server)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30)


def chat(c: httpx.Client, base: str, session: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"message": RETURNS}
    if session:
        body["session_id"] = session
    return c.post(f"{base}/v1/chat", json=body)


def test_a_flooding_client_gets_429s_on_every_chat_door_and_others_are_served(
    live_server: Callable[..., str],
) -> None:
    base = live_server(
        InstantChatModel(),
        limits=TIGHT,
        compat={"api_key": SecretStr(KEY)},
        web={"allowed_origins": [SHOP]},
    )
    flood, other = client_at("127.0.0.2"), client_at("127.0.0.3")
    codes = [chat(flood, base).status_code for _ in range(4)]
    assert codes == [200] * 4
    refused = chat(flood, base)
    assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 10
    assert "try again" in refused.json()["detail"]
    stream = flood.post(f"{base}/v1/chat/stream", json={"message": RETURNS})
    assert stream.status_code == 429 and stream.headers["retry-after"]
    form = flood.post(
        f"{base}/ask",
        content="message=How+long+do+I+have+to+return+an+item%3F",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 429 and "<form" in form.text
    compat = flood.post(
        f"{base}/v1/chat/completions",
        json={"model": "faqbot", "messages": [{"role": "user", "content": RETURNS}]},
        headers={"authorization": f"Bearer {KEY}"},
    )
    assert compat.status_code == 429 and compat.json()["error"]["type"] == "rate_limit_error"
    assert int(compat.headers["retry-after"]) >= 1
    assert chat(other, base).status_code == 200  # another address is not affected
    # Refused at the door now: not even the body is read (a broken one is no 422).
    door = flood.post(
        f"{base}/v1/chat", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert door.status_code == 429 and int(door.headers["retry-after"]) >= 1
    embedded = flood.post(f"{base}/v1/chat", json={"message": RETURNS}, headers={"Origin": SHOP})
    assert embedded.status_code == 429 and embedded.headers["access-control-allow-origin"] == SHOP
    metrics = httpx.get(f"{base}/metrics").text
    assert re.search(r'faqbot_rate_limited_total\{by="address",limit="chat"\} 6\.0', metrics)


def test_one_session_cannot_spend_its_addresss_allowance(live_server: Callable[..., str]) -> None:
    roomier = {**TIGHT, "chat_per_address": RateLimit(per_minute=6, burst=6)}
    base = live_server(InstantChatModel(), limits=roomier)
    c = client_at("127.0.0.4")
    session = chat(c, base).json()["session_id"]  # no session yet: the address's bucket only
    codes = [chat(c, base, session).status_code for _ in range(6)]
    assert codes == [200, 200, 200, 429, 429, 429]
    # the refused request took nothing from the address: a new conversation still works
    assert chat(c, base).status_code == 200


@pytest.fixture
def mailbox() -> Iterator[tuple[list[EmailMessage], int]]:
    from aiosmtpd.controller import Controller

    received: list[EmailMessage] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            from email import message_from_bytes, policy

            received.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
            return "250 OK"

    smtp = Controller(Handler(), hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        yield received, smtp.port
    finally:
        smtp.stop()


def handoff(c: httpx.Client, base: str, **fields: Any) -> httpx.Response:
    body = {"name": "Dana", "email": "dana@example.com", "message": "Please call me"} | fields
    return c.post(f"{base}/v1/handoff", json=body)


def test_one_handoff_per_conversation_one_mail_and_a_masked_message(
    seeded: Settings, live_server: Callable[..., str], mailbox: tuple[list[EmailMessage], int]
) -> None:
    received, port = mailbox
    smtp = {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False}
    base = live_server(InstantChatModel(), handoff=smtp)
    c = client_at("127.0.0.5")
    session = chat(c, base).json()["session_id"]
    message = "I live at Seestraße 12, 10115 Berlin, call me on +49 176 1234 5678"
    first = handoff(c, base, session_id=session, message=message)
    assert first.status_code == 201 and first.json()["mailed"] is True
    again = [handoff(c, base, session_id=session).json() for _ in range(5)]
    assert {r["reference"] for r in again} == {first.json()["reference"]}
    assert all(r["repeated"] for r in again) and "already" in again[0]["message"]
    engine = sa.create_engine(seeded.db.url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select email, message from handoff_requests")).all()
    engine.dispose()
    assert len(rows) == 1 and len(received) == 1
    assert rows[0].email == "dana@example.com"  # the contact, in its own field
    for raw in ("Seestraße 12", "10115", "1234 5678"):
        assert raw not in rows[0].message and raw not in received[0].get_content()
    assert received[0]["Reply-To"] == "dana@example.com"


def test_a_line_break_in_a_name_is_refused_and_never_reaches_a_mail_header(
    live_server: Callable[..., str], mailbox: tuple[list[EmailMessage], int]
) -> None:
    received, port = mailbox
    smtp = {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False}
    base = live_server(InstantChatModel(), handoff=smtp)
    c = client_at("127.0.0.6")
    for name in ("Dana\nBcc: all@example.com", "Dana\r\nX: y", "Dana\u2028X"):
        r = handoff(c, base, name=name)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "name"]
    r = c.post(
        f"{base}/v1/handoff",
        content=b'{"name": "D\\ud800", "email": "d@example.com", "message": "x"}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422
    assert received == []
    ok = handoff(c, base, name="Zoë Ångström-Ñúñez")  # non-ASCII names are encoded, not refused
    assert ok.status_code == 201 and ok.json()["mailed"] is True
    assert "Zoë" in str(received[0]["Subject"])


def test_mails_stop_at_the_hours_allowance_and_requests_are_still_kept(
    seeded: Settings, live_server: Callable[..., str], mailbox: tuple[list[EmailMessage], int]
) -> None:
    received, port = mailbox
    smtp = {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False}
    base = live_server(InstantChatModel(), handoff={**smtp, "mails_per_hour": 2})
    results = [
        handoff(client_at(f"127.0.1.{i}"), base, email=f"c{i}@example.com").json()
        for i in range(1, 5)
    ]
    assert [r["mailed"] for r in results] == [True, True, False, False]
    assert len(received) == 2
    engine = sa.create_engine(seeded.db.url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from handoff_requests")).scalar_one() == 4
    engine.dispose()


def test_handoffs_from_one_address_are_limited(live_server: Callable[..., str]) -> None:
    base = live_server(InstantChatModel(), limits=TIGHT)
    c = client_at("127.0.0.7")
    codes = [handoff(c, base, email=f"x{i}@example.com").status_code for i in range(6)]
    assert codes == [201, 201, 201, 429, 429, 429]


def test_one_vote_per_answer_whatever_a_client_sends(
    seeded: Settings, live_server: Callable[..., str]
) -> None:
    base = live_server(InstantChatModel(), limits=TIGHT)
    c = client_at("127.0.0.8")
    answer = chat(c, base).json()["message_id"]

    async def thumbs() -> list[int]:
        async with httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(local_address="127.0.0.8"), timeout=30
        ) as ac:
            sent = [
                ac.post(f"{base}/v1/feedback", json={"message_id": answer, "rating": "down"})
                for _ in range(60)
            ]
            return [r.status_code for r in await asyncio.gather(*sent)]

    codes = asyncio.run(thumbs())
    assert codes.count(201) == 10 and codes.count(429) == 50
    vote = client_at("127.0.0.9").post(
        f"{base}/v1/feedback", json={"message_id": answer, "rating": "up", "comment": "ok now"}
    )
    assert vote.status_code == 201
    engine = sa.create_engine(seeded.db.url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select rating, comment from feedback")).all()
    engine.dispose()
    assert [(r.rating, r.comment) for r in rows] == [("up", "ok now")]


@pytest.mark.parametrize("stream", [False, True])
def test_the_openai_endpoint_refuses_unreadable_text_with_a_422(
    live_server: Callable[..., str], stream: bool
) -> None:
    base = live_server(InstantChatModel(), compat={"api_key": SecretStr(KEY)})
    for content in (
        b'"hi \\ud800"',
        b'"nul \\u0000 byte"',
        b'[{"type": "text", "text": "\\udfff"}]',
    ):
        body = (
            b'{"model": "faqbot", "stream": %s, "messages": [{"role": "user", "content": %s}]}'
            % (b"true" if stream else b"false", content)
        )
        r = httpx.post(
            f"{base}/v1/chat/completions",
            content=body,
            headers={"authorization": f"Bearer {KEY}", "content-type": "application/json"},
        )
        assert r.status_code == 422, (content, r.text)
    ok = httpx.post(
        f"{base}/v1/chat/completions",
        json={
            "model": "faqbot",
            "stream": stream,
            "messages": [{"role": "system", "content": ""}, {"role": "user", "content": RETURNS}],
        },
        headers={"authorization": f"Bearer {KEY}"},
    )
    assert ok.status_code == 200 and ("[DONE]" in ok.text if stream else "30 days" in ok.text)
