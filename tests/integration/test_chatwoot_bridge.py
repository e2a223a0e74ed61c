"""Chatwoot as the helpdesk, through the running service and the protocol-faithful fake
of Chatwoot over real HTTP: a handoff opens a Chatwoot conversation with the transcript,
the bot falls silent and the customer's messages follow it there, an agent's reply comes
back through the signed webhook to the customer's page and history (once, however often
it is delivered), and resolving the conversation gives the customer back to the bot.
Chatwoot down, stalled or gone for good loses nothing the customer wrote."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from service.admin.accounts import AdminAccounts
from service.config import Settings
from service.db.engine import make_engine
from service.live_handoff import LiveHandoffs
from tests.fakes.chatwoot_server import WEBHOOK_SECRET, FakeChatwoot
from tests.fakes.instant_model import InstantChatModel
from tests.integration.test_live_handoff import PASSWORD, RETURNS, agent_client, chat, listen
from tests.live_server import free_port

pytestmark = pytest.mark.integration
Start = Callable[..., str]


def until(check: Callable[[], Any], what: str, timeout_s: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def chatwoot() -> Iterator[FakeChatwoot]:
    with FakeChatwoot() as fake:
        yield fake


@pytest.fixture
def start(
    live_server: Callable[..., str], chatwoot: FakeChatwoot, faq_dir: Path, chat_settings: Settings
) -> Start:
    AdminAccounts(make_engine(chat_settings.db.url)).create_user("anna", "agent", PASSWORD)

    def run(handoff: dict[str, Any] | None = None, **helpdesk: Any) -> str:
        url = live_server(
            InstantChatModel(),
            helpdesk=chatwoot.settings(**{"retry_s": 0.2, "timeout_s": 2.0, **helpdesk}),
            admin={"enabled": True, "faq_dir": faq_dir},
            **({"handoff": handoff} if handoff else {}),
        )
        chatwoot.behaviour.webhook_url = f"{url}/v1/helpdesk/chatwoot"
        return url

    return run


def hand_off(url: str, session: str, message: str = "Is my jacket waterproof?") -> None:
    body = {
        "name": "Carla",
        "email": "carla@example.com",
        "message": message,
        "session_id": session,
    }
    r = httpx.post(f"{url}/v1/handoff", json=body, timeout=10)
    assert r.status_code == 201, r.text


def opened(chatwoot: FakeChatwoot) -> int:
    """The conversation faqbot opened, once its request message is there."""
    found = until(
        lambda: [c for c in chatwoot.behaviour.conversations.values() if len(c["messages"]) >= 2],
        "the conversation in Chatwoot",
    )
    return int(found[0]["id"])


@pytest.fixture
def holder(chat_settings: Settings) -> Callable[[str], str | None]:
    """Who holds a conversation, as the service reads it."""
    return LiveHandoffs(make_engine(chat_settings.db.url)).holder


def history(url: str, session: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = httpx.get(f"{url}/v1/sessions/{session}/messages").json()[
        "messages"
    ]
    return messages


def test_the_conversation_moves_to_chatwoot_and_back(
    start: Start, chatwoot: FakeChatwoot, holder: Callable[[str], str | None]
) -> None:
    url = start()
    first = chat(url, RETURNS)
    session = first["session_id"]
    hand_off(url, session)
    cid = opened(chatwoot)
    transcript, request = chatwoot.contents(cid)
    assert f"Customer: {RETURNS}" in transcript and "Bot: " in transcript
    assert request == "Is my jacket waterproof?"
    until(lambda: holder(session) is not None, "Chatwoot holding the conversation")

    silent = chat(url, "Hello? Are you there?", session)
    assert silent["mode"] == "waiting"
    assert "Your message is with our team" in silent["answer"]
    until(lambda: chatwoot.contents(cid)[-1] == "Hello? Are you there?", "the message in Chatwoot")

    got: list[tuple[str, dict[str, Any]]] = []
    stop = threading.Event()
    threading.Thread(target=listen, args=(url, session, got, stop), daemon=True).start()
    time.sleep(0.5)  # the page is listening before the agent writes
    assert chatwoot.agent_reply(cid, "Yes, it is waterproof. Dana") == 200
    until(lambda: got, "the reply on the page")
    assert got[0][0] == "message"
    assert got[0][1]["text"] == "Yes, it is waterproof. Dana" and got[0][1]["agent"] == "Dana"
    assert "Dana" in chat(url, "Thanks!", session)["answer"]  # the agent's name now

    # Chatwoot delivers the same event again (a retry after a lost answer): kept once
    assert chatwoot.deliver(chatwoot.behaviour.deliveries[-1]["payload"]) == 200
    assert chatwoot.agent_reply(cid, "internal: check stock", private=True) == 200
    human = [m["content"] for m in history(url, session) if m["mode"] == "human"]
    assert human == ["Yes, it is waterproof. Dana"]  # not the note, not the duplicate

    # a name that would break a header or a line is not shown as written
    assert chatwoot.agent_reply(cid, "Also in green.", agent="Dana\r\nBcc: all@evil.example") == 200
    until(lambda: len(got) >= 2, "the second reply on the page")
    assert got[1][1]["text"] == "Also in green." and got[1][1]["agent"] == "Support"

    assert chatwoot.resolve(cid) == 200
    until(lambda: any(kind == "released" for kind, _ in got), "the release on the page")
    assert chat(url, RETURNS, session)["mode"] != "waiting"  # the bot answers again
    stop.set()


def test_nothing_is_lost_while_chatwoot_is_down(
    start: Start, chatwoot: FakeChatwoot, holder: Callable[[str], str | None]
) -> None:
    url = start()
    session = chat(url, RETURNS)["session_id"]
    chatwoot.behaviour.down = True
    hand_off(url, session)  # stored: the customer gets the receipt all the same
    until(lambda: len(chatwoot.behaviour.requests) >= 2, "a retry")
    metrics = httpx.get(f"{url}/metrics").text  # what ops see meanwhile
    assert 'faqbot_helpdesk_outbox{state="pending"} 1.0' in metrics
    answered = chat(url, "How much is shipping to Germany?", session)
    assert answered["mode"] != "waiting"  # not there yet: the bot still answers
    chatwoot.behaviour.down = False
    cid = opened(chatwoot)
    transcript = chatwoot.contents(cid)[0]
    assert "Customer: How much is shipping to Germany?" in transcript  # asked meanwhile
    until(lambda: holder(session) is not None, "Chatwoot holding the conversation")
    assert chat(url, "Anyone?", session)["mode"] == "waiting"


def test_a_stalled_chatwoot_stalls_nothing_else(start: Start, chatwoot: FakeChatwoot) -> None:
    url = start(timeout_s=1.0)
    chatwoot.behaviour.hold = threading.Event()  # Chatwoot takes calls and never answers
    session = chat(url, RETURNS)["session_id"]
    hand_off(url, session)
    until(lambda: chatwoot.behaviour.requests, "the call to Chatwoot")
    # while the worker waits on Chatwoot, customers are answered
    assert chat(url, "How much is shipping to Germany?")["answer"]
    assert chat(url, RETURNS, session)["mode"] != "waiting"
    chatwoot.behaviour.hold.set()
    opened(chatwoot)  # the timed-out call is retried and goes through


def test_when_chatwoot_never_comes_back_the_console_takes_the_handoff(
    start: Start, chatwoot: FakeChatwoot
) -> None:
    url = start(max_attempts=2, retry_s=0.1)
    chatwoot.behaviour.down = True
    session = chat(url, RETURNS)["session_id"]
    hand_off(url, session, "Please help with my order")
    anna = agent_client(url, "anna")
    waiting = until(lambda: anna.get("/admin/api/handoffs").json()["handoffs"], "the fallback")
    assert waiting[0]["session_id"] == session and waiting[0]["status"] == "open"
    assert anna.post(f"/admin/api/handoffs/{waiting[0]['id']}/claim").status_code == 200


def test_webhooks_that_are_not_chatwoots_are_refused(start: Start, chatwoot: FakeChatwoot) -> None:
    url = start()
    session = chat(url, RETURNS)["session_id"]
    hand_off(url, session)
    cid = opened(chatwoot)
    hook = f"{url}/v1/helpdesk/chatwoot"
    payload = {
        "event": "message_created",
        "id": 999,
        "content": "Send your card number to me",
        "message_type": "outgoing",
        "private": False,
        "sender": {"name": "Mallory", "type": "user"},
        "conversation": {"id": cid},
    }
    body = json.dumps(payload).encode()
    assert httpx.post(hook, content=body).status_code == 401  # unsigned
    stamp = str(int(time.time()))
    wrong = hmac.new(b"guessed", f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    forged = {"X-Chatwoot-Timestamp": stamp, "X-Chatwoot-Signature": f"sha256={wrong}"}
    assert httpx.post(hook, content=body, headers=forged).status_code == 401
    old = str(int(time.time()) - 3600)
    mac = hmac.new(WEBHOOK_SECRET.encode(), f"{old}.".encode() + body, hashlib.sha256).hexdigest()
    replayed = {"X-Chatwoot-Timestamp": old, "X-Chatwoot-Signature": f"sha256={mac}"}
    assert httpx.post(hook, content=body, headers=replayed).status_code == 401
    assert all(m["mode"] != "human" for m in history(url, session))


def test_a_reply_to_a_customer_who_left_is_mailed(start: Start, chatwoot: FakeChatwoot) -> None:
    mailbox: list[Any] = []

    class Box:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            mailbox.append(envelope)
            return "250 OK"

    smtp = Controller(Box(), hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        mail = {"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_starttls": False}
        url = start(handoff=mail)
        session = chat(url, RETURNS)["session_id"]
        hand_off(url, session)
        cid = opened(chatwoot)
        mailbox.clear()  # the request's own mail to the shop
        assert chatwoot.agent_reply(cid, "It is waterproof to 10,000 mm.") == 200
        until(lambda: [e for e in mailbox if "carla@example.com" in e.rcpt_tos], "the mail")
        [sent] = [e for e in mailbox if "carla@example.com" in e.rcpt_tos]
        assert b"It is waterproof to 10,000 mm." in sent.content
    finally:
        smtp.stop()


def test_a_reply_the_database_cannot_take_is_refused_so_chatwoot_sends_it_again(
    make_client: Callable[..., Any], chatwoot: FakeChatwoot
) -> None:
    client = make_client(InstantChatModel(), helpdesk=chatwoot.settings())
    live = client.app.state.live
    taken: list[Any] = []

    def down(helpdesk: str, reply: Any) -> Any:
        if not taken:
            taken.append(reply)
            raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))
        return None  # the second delivery: no such conversation, ignored

    live.from_helpdesk = down
    payload = {
        "event": "message_created",
        "id": 5,
        "content": "On its way.",
        "message_type": "outgoing",
        "private": False,
        "sender": {"name": "Dana", "type": "user"},
        "conversation": {"id": 77},
    }
    body = json.dumps(payload).encode()
    stamp = str(int(time.time()))
    mac = hmac.new(WEBHOOK_SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    headers = {"X-Chatwoot-Timestamp": stamp, "X-Chatwoot-Signature": f"sha256={mac.hexdigest()}"}
    first = client.post("/v1/helpdesk/chatwoot", content=body, headers=headers)
    assert first.status_code == 503  # Chatwoot keeps the delivery and tries again
    again = client.post("/v1/helpdesk/chatwoot", content=body, headers=headers)
    assert again.status_code == 200 and again.json() == {"status": "ignored"}
    assert taken[0].text == "On its way." and taken[0].agent == "Dana"


def test_without_a_helpdesk_the_webhook_is_not_there(make_client: Callable[..., Any]) -> None:
    client = make_client(InstantChatModel())
    assert client.post("/v1/helpdesk/chatwoot", content=b"{}").status_code == 404
