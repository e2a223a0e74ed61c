"""A person takes over through the API: the customer asks for a person, an agent claims
the conversation, the bot falls silent and the customer's messages reach the agent, the
agent's replies reach the customer's event stream and the history, the agent hands the
conversation back and the bot answers again. Only agents (and ops) may do it, one agent
at a time; a reply to a customer who has left is mailed."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from service.admin.accounts import AdminAccounts
from service.config import Settings
from service.db.engine import make_engine
from tests.fakes.instant_model import InstantChatModel

pytestmark = pytest.mark.integration
PASSWORD = "a long enough password 1"
MakeClient = Callable[..., TestClient]
RETURNS = "How long do I have to return an item?"


@pytest.fixture
def agents(chat_settings: Settings) -> AdminAccounts:
    accounts = AdminAccounts(make_engine(chat_settings.db.url))
    accounts.create_user("anna", "agent", PASSWORD)
    accounts.create_user("ben", "agent", PASSWORD)
    accounts.create_user("erika", "editor", PASSWORD)
    return accounts


@pytest.fixture
def service(live_server: Callable[..., str], faq_dir: Path, agents: AdminAccounts) -> str:
    return live_server(InstantChatModel(), admin={"enabled": True, "faq_dir": faq_dir})


def agent_client(url: str, name: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=10)
    r = client.post("/admin/api/login", json={"name": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.headers["X-CSRF-Token"] = r.json()["csrf"]
    return client


def chat(url: str, message: str, session: str | None = None) -> dict[str, Any]:
    r = httpx.post(f"{url}/v1/chat", json={"message": message, "session_id": session}, timeout=30)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def listen(
    url: str, session: str, got: list[tuple[str, dict[str, Any]]], stop: threading.Event
) -> None:
    """The customer's page: the event stream, as EventSource reads it."""
    with httpx.stream("GET", f"{url}/v1/sessions/{session}/events", timeout=30) as r:
        kind = None
        for line in r.iter_lines():
            if stop.is_set():
                return
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: ") and kind:
                got.append((kind, json.loads(line.removeprefix("data: "))))


def wait(got: list[Any], count: int) -> None:
    import time

    deadline = time.monotonic() + 15
    while len(got) < count:
        assert time.monotonic() < deadline, got
        time.sleep(0.1)


@pytest.fixture
def handed_off(service: str) -> Iterator[tuple[str, str, str]]:
    """A customer who chatted and asked for a person: (url, session, handoff id)."""
    session = chat(service, RETURNS)["session_id"]
    r = httpx.post(
        f"{service}/v1/handoff",
        json={
            "name": "Carla",
            "email": "carla@example.com",
            "message": "Is my jacket waterproof?",
            "session_id": session,
        },
        timeout=10,
    )
    assert r.status_code == 201, r.text
    anna = agent_client(service, "anna")
    [waiting] = anna.get("/admin/api/handoffs").json()["handoffs"]
    assert waiting["session_id"] == session and waiting["status"] == "open"
    yield service, session, waiting["id"]


def test_a_person_takes_over_replies_live_and_hands_back(handed_off: tuple[str, str, str]) -> None:
    url, session, hid = handed_off
    anna = agent_client(url, "anna")
    detail = anna.get(f"/admin/api/handoffs/{hid}").json()
    assert detail["message"] == "Is my jacket waterproof?"
    assert detail["turns"] and detail["turns"][0]["question"] == RETURNS  # with its trace
    assert anna.post(f"/admin/api/handoffs/{hid}/claim").status_code == 200

    got: list[tuple[str, dict[str, Any]]] = []
    stop = threading.Event()
    threading.Thread(target=listen, args=(url, session, got, stop), daemon=True).start()
    silent = chat(url, "Hello? Are you there?", session)
    assert silent["mode"] == "waiting" and "anna" in silent["answer"]  # no bot answer
    seen = anna.get(f"/admin/api/handoffs/{hid}").json()["messages"]
    assert [m["text"] for m in seen if m["author"] == "customer"] == ["Hello? Are you there?"]

    sent = anna.post(f"/admin/api/handoffs/{hid}/reply", json={"text": "Yes, it is. Anna"})
    assert sent.status_code == 200 and sent.json()["customer_left"] is False
    wait(got, 1)
    assert got[0] == ("message", {**got[0][1], "text": "Yes, it is. Anna", "author": "agent"})
    history = httpx.get(f"{url}/v1/sessions/{session}/messages").json()["messages"]
    assert [m["content"] for m in history if m["mode"] == "human"] == ["Yes, it is. Anna"]

    assert anna.post(f"/admin/api/handoffs/{hid}/handback").status_code == 200
    wait(got, 2)
    assert got[1][0] == "released"
    assert chat(url, RETURNS, session)["mode"] != "waiting"  # the bot answers again
    stop.set()


def test_one_agent_at_a_time_and_only_agents(handed_off: tuple[str, str, str]) -> None:
    url, _, hid = handed_off
    anna, ben, erika = (agent_client(url, n) for n in ("anna", "ben", "erika"))
    assert anna.post(f"/admin/api/handoffs/{hid}/claim").status_code == 200
    taken = ben.post(f"/admin/api/handoffs/{hid}/claim")
    assert taken.status_code == 409 and "anna holds" in taken.json()["detail"]
    assert ben.post(f"/admin/api/handoffs/{hid}/reply", json={"text": "hi"}).status_code == 409
    assert erika.get("/admin/api/handoffs").status_code == 403  # editors edit the FAQ
    assert anna.get("/admin/api/inbox").status_code == 403  # agents do not
    assert anna.post(f"/admin/api/handoffs/{hid}/close").status_code == 200
    assert anna.post(f"/admin/api/handoffs/{hid}/reply", json={"text": "x"}).status_code == 409
    assert anna.get("/admin/api/handoffs").json()["handoffs"] == []


def test_a_reply_to_a_customer_who_left_is_kept_and_marked(
    handed_off: tuple[str, str, str],
) -> None:
    url, session, hid = handed_off
    anna = agent_client(url, "anna")
    anna.post(f"/admin/api/handoffs/{hid}/claim")
    sent = anna.post(f"/admin/api/handoffs/{hid}/reply", json={"text": "It is waterproof."})
    body = sent.json()
    assert body["customer_left"] is True  # no page listened: it would be mailed (SMTP set)
    history = httpx.get(f"{url}/v1/sessions/{session}/messages").json()["messages"]
    assert "It is waterproof." in [m["content"] for m in history]  # there on their return


def test_inside_opening_hours_the_customer_is_told_a_person_replies_here(
    make_client: MakeClient,
) -> None:
    always = {"hours": "Mon-Sun 00:00-24:00", "hours_timezone": "UTC", "reply_minutes": 7}
    client = make_client(InstantChatModel(), handoff=always)
    offer = client.post("/v1/chat", json={"message": "I want to talk to a person"}).json()
    assert "within 7 minutes" in offer["answer"]
    body = {"name": "Eve", "email": "eve@example.com", "message": "help"}
    receipt = client.post("/v1/handoff", json=body).json()
    assert "usually replies here within 7 minutes" in receipt["message"]
    closed = make_client(InstantChatModel())  # no hours: the reply comes by email
    offer = closed.post("/v1/chat", json={"message": "I want to talk to a person"}).json()
    assert "minutes" not in offer["answer"] and "get back to you" in offer["answer"]
    receipt = closed.post("/v1/handoff", json={**body, "email": "eve2@example.com"}).json()
    assert "reply to eve2@example.com" in receipt["message"]


def test_a_persons_answer_becomes_a_draft_in_the_gap_inbox(service: str) -> None:
    question = "Can my parrot join your office party next week?"
    asked = chat(service, question)
    assert asked["mode"] == "abstained"  # the FAQ does not cover it
    session = asked["session_id"]
    body = {"name": "Finn", "email": "finn@example.com", "message": question, "session_id": session}
    assert httpx.post(f"{service}/v1/handoff", json=body, timeout=10).status_code == 201
    anna = agent_client(service, "anna")
    hid = next(
        h["id"] for h in anna.get("/admin/api/handoffs").json()["handoffs"] if h["name"] == "Finn"
    )
    anna.post(f"/admin/api/handoffs/{hid}/claim")
    anna.post(f"/admin/api/handoffs/{hid}/reply", json={"text": "Yes: send it to our workshop."})
    anna.post(f"/admin/api/handoffs/{hid}/close")
    erika = agent_client(service, "erika")
    clusters = erika.get("/admin/api/inbox").json()["clusters"]
    [found] = [c for c in clusters if question in c["questions"]]
    assert found["kinds"] == {"person": 1, "abstained": 1}  # the decline and the handoff
    assert found["drafts"] == ["Yes: send it to our workshop."]


def test_the_history_masks_a_persons_reply_as_it_masks_the_bots(
    handed_off: tuple[str, str, str],
) -> None:
    url, session, hid = handed_off
    anna = agent_client(url, "anna")
    anna.post(f"/admin/api/handoffs/{hid}/claim")
    text = "I sent it to carla.private@example.net, or call +49 170 1234567."
    assert anna.post(f"/admin/api/handoffs/{hid}/reply", json={"text": text}).status_code == 200
    history = httpx.get(f"{url}/v1/sessions/{session}/messages").json()["messages"]
    [stored] = [m["content"] for m in history if m["mode"] == "human"]
    assert "carla.private@example.net" not in stored and "1234567" not in stored


def test_the_event_stream_opens_while_the_store_cannot_say_where_it_was(
    make_client: MakeClient,
) -> None:
    """No 500: the stream starts, and finds its place once the store answers."""
    client = make_client(InstantChatModel())
    session = client.post("/v1/chat", json={"message": RETURNS}).json()["session_id"]
    live = client.app.state.live  # type: ignore[attr-defined]
    real, calls = live.latest, []

    def flaky(session_id: str) -> int:
        calls.append(session_id)
        if len(calls) == 1:
            raise TimeoutError("the store is slow")
        return int(real(session_id))

    live.latest = flaky
    with client.stream("GET", f"/v1/sessions/{session}/events") as r:
        assert r.status_code == 200
        assert next(r.iter_lines()).startswith("retry:")
