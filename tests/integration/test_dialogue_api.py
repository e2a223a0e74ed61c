"""The dialogue policy through the API, on the real embedder and index: small talk, a
request for a person, "where is my order" without a number, each message's own
language, cached "did you mean" entries, and a reload that looks as the conversation
did (chips, "did you mean", the vote)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.fakes.instant_model import InstantChatModel

pytestmark = pytest.mark.integration
MakeClient = Callable[..., TestClient]
RETURNS = "How long do I have to return an item?"


def chat(client: TestClient, message: str, session: str | None = None) -> dict:  # type: ignore[type-arg]
    body = {"message": message, "session_id": session} if session else {"message": message}
    response = client.post("/v1/chat", json=body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_thanks_gets_a_short_reply_not_the_last_answer_again(make_client: MakeClient) -> None:
    client = make_client(InstantChatModel(), chat={"canonical_threshold": 0.3})
    first = chat(client, RETURNS)
    thanks = chat(client, "thanks!", first["session_id"])
    assert thanks["mode"] == "smalltalk" and "30 days" not in thanks["answer"]
    assert thanks["sources"] == [] and "welcome" in thanks["answer"]
    hello = chat(client, "hello")
    assert hello["mode"] == "smalltalk"


def test_asking_for_a_person_offers_the_handoff_in_the_language_asked(
    make_client: MakeClient,
) -> None:
    client = make_client(InstantChatModel())
    german = chat(client, "Wie lange habe ich Zeit, einen Artikel zurückzuschicken?")
    asked = chat(client, "I want to talk to a person", german["session_id"])
    assert asked["mode"] == "handoff" and asked["action"] == "handoff"
    assert asked["lang"] == "en" and "person" in asked["answer"]
    assert chat(client, "Ich möchte mit einem Mitarbeiter sprechen")["lang"] == "de"


def test_where_is_my_order_without_a_number_asks_for_it(make_client: MakeClient) -> None:
    client = make_client(InstantChatModel())
    reply = chat(client, "Where is my order?")
    assert reply["mode"] == "order" and reply["action"] == "order_lookup"
    assert "order number" in reply["answer"]
    off = make_client(InstantChatModel(), orders={"enabled": False})
    assert chat(off, "Where is my order?")["action"] is None  # no order flow to start


def test_every_customer_gets_the_did_you_mean_of_a_cached_answer(
    make_client: MakeClient,
) -> None:
    client = make_client(InstantChatModel(), chat={"suggestion_floor": 0.0})
    first = chat(client, "What is the capital of Australia?")
    second = chat(client, "What is the capital of Australia?")
    assert second["cached"] and second["suggestions"] == first["suggestions"] != []


def test_a_reload_shows_the_chips_suggestions_and_vote_again(make_client: MakeClient) -> None:
    client = make_client(
        InstantChatModel(), chat={"canonical_threshold": 0.3, "suggestion_floor": 0.0}
    )
    answered = chat(client, RETURNS)
    session = answered["session_id"]
    declined = chat(client, "What is the capital of Australia?", session)
    vote = {"message_id": answered["message_id"], "rating": "up"}
    assert client.post("/v1/feedback", json=vote).status_code in (200, 201)
    messages = client.get(f"/v1/sessions/{session}/messages").json()["messages"]
    answers = [m for m in messages if m["role"] == "assistant"]
    assert answers[0]["sources"][0]["id"] == "returns-window"
    assert answers[0]["rating"] == "up"
    assert answers[1]["suggestions"] == declined["suggestions"] != []
    assert answers[1]["rating"] is None


def test_a_close_call_answer_offers_the_next_entries_too(make_client: MakeClient) -> None:
    # every answer below the verbatim rule is extractive; a lead under 5.0 is close
    client = make_client(
        InstantChatModel(), chat={"canonical_threshold": 1.0, "canonical_margin": 5.0}
    )
    close = chat(client, "how many days do I have to send something back")
    assert close["mode"] == "extractive" and len(close["suggestions"]) >= 1
    assert close["suggestions"][0]["id"] != close["sources"][0]["id"]
    clear = make_client(
        InstantChatModel(), chat={"canonical_threshold": 1.0, "canonical_margin": 0.0}
    )
    assert chat(clear, "how many days do I have to send something back")["suggestions"] == []
