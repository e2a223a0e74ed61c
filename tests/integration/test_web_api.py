"""The API the chat page and widget use: settings, entries, a conversation after a
reload, "did you mean", handoff requests, CORS for embedding shops, security headers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from service.config import Settings
from service.web.security import CSP
from tests.fakes.instant_model import InstantChatModel

pytestmark = pytest.mark.integration
MakeClient = Callable[..., TestClient]
SHOP = "https://shop.example"


def test_config_gives_the_page_what_it_shows(make_client: MakeClient) -> None:
    client = make_client(
        InstantChatModel(), shop={"name": "Test Shop"}, web={"brand_colour": "#ffe066"}
    )
    config = client.get("/v1/config").json()
    assert config["shop_name"] == "Test Shop" and len(config["suggested_questions"]) == 3
    assert config["on_brand_colour"] == "#000000"  # dark text on a light brand colour
    assert client.get("/theme.css").text.startswith(":root,:host{--fb-brand:#ffe066")


def test_entries_are_served_for_cited_sources(make_client: MakeClient) -> None:
    client = make_client(InstantChatModel())
    entry = client.get("/v1/entries/returns-window").json()
    assert entry["title"] == "How long do I have to return an item?"
    assert entry["updated"] == "2026-01-01" and "30 days" in entry["answer"]
    assert client.get("/v1/entries/nope").status_code == 404
    assert client.get("/v1/entries/..%2F..%2Fetc").status_code in (404, 422)


def test_a_conversation_is_returned_only_to_the_holder_of_its_id(
    make_client: MakeClient,
) -> None:
    client = make_client(InstantChatModel(), chat={"canonical_threshold": 0.3})
    first = client.post("/v1/chat", json={"message": "How long do I have to return an item?"})
    session = first.json()["session_id"]
    got = client.get(f"/v1/sessions/{session}/messages").json()
    assert [m["role"] for m in got["messages"]] == ["user", "assistant"]
    assert got["messages"][1]["id"] == first.json()["message_id"]
    assert got["messages"][1]["mode"] == "canonical"
    assert client.get(f"/v1/sessions/{'0' * 32}/messages").status_code == 404
    assert client.get("/v1/sessions/not!valid/messages").status_code == 422


def test_a_declined_question_can_offer_suggestions_and_one_answers_them(
    make_client: MakeClient,
) -> None:
    # The floor at 0: any declined question offers the closest entries.
    client = make_client(InstantChatModel(), chat={"suggestion_floor": 0.0})
    declined = client.post("/v1/chat", json={"message": "What is the capital of Australia?"})
    body = declined.json()
    assert body["mode"] == "abstained" and 1 <= len(body["suggestions"]) <= 3
    pick = body["suggestions"][0]
    answered = client.post(
        "/v1/chat", json={"message": pick["title"], "entry_id": pick["id"]}
    ).json()
    assert answered["mode"] == "canonical" and answered["sources"][0]["id"] == pick["id"]
    unknown = client.post("/v1/chat", json={"message": "x", "entry_id": "no-such-entry"}).json()
    assert unknown["mode"] == "abstained"
    strict = make_client(InstantChatModel(), chat={"suggestion_floor": 1.0})
    none = strict.post("/v1/chat", json={"message": "What is the capital of Australia?"})
    assert none.json()["suggestions"] == []


def test_handoff_requests_are_validated_and_stored(
    seeded: Settings, make_client: MakeClient
) -> None:
    client = make_client(InstantChatModel())
    session = client.post("/v1/chat", json={"message": "Do you ship to Mars?"}).json()["session_id"]
    ok = client.post(
        "/v1/handoff",
        json={
            "name": "Dana",
            "email": "dana@example.com",
            "message": "Please call me",
            "session_id": session,
        },
    )
    assert ok.status_code == 201 and ok.json()["mailed"] is False  # no SMTP configured
    assert "dana@example.com" in ok.json()["message"]
    for bad in (
        {"name": "D", "email": "not-an-email", "message": "x"},
        {"name": "", "email": "d@example.com", "message": "x"},
        {"name": "D", "email": "d@example.com", "message": "x" * 5000},
        {"name": "D", "email": "d@example.com"},
    ):
        assert client.post("/v1/handoff", json=bad).status_code == 422, bad
    engine = sa.create_engine(seeded.db.url)
    with engine.connect() as conn:
        row = conn.execute(sa.text("select name, email, conversation from handoff_requests")).one()
    engine.dispose()
    assert row.name == "Dana" and "Do you ship to Mars?" in row.conversation


def test_cors_is_closed_unless_the_shop_is_allowed(make_client: MakeClient) -> None:
    closed = make_client(InstantChatModel())
    r = closed.get("/v1/config", headers={"Origin": SHOP})
    assert "access-control-allow-origin" not in r.headers
    open_ = make_client(InstantChatModel(), web={"allowed_origins": [SHOP]})
    r = open_.get("/widget.js", headers={"Origin": SHOP})
    assert r.headers["access-control-allow-origin"] == SHOP
    assert r.headers["content-type"].startswith("text/javascript")
    preflight = open_.options(
        "/v1/chat/stream",
        headers={
            "Origin": SHOP,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    other = open_.get("/v1/config", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_every_response_carries_the_security_headers(make_client: MakeClient) -> None:
    client = make_client(InstantChatModel())
    for path in ("/", "/v1/config", "/static/chat.js", "/nope", "/healthz"):
        r = client.get(path)
        assert r.headers["content-security-policy"] == CSP, path
        assert r.headers["x-content-type-options"] == "nosniff"
    assert client.get("/docs").status_code == 404  # Swagger UI would load from a CDN
    assert client.get("/openapi.json").status_code == 200


def test_the_no_javascript_form_answers_and_escapes(make_client: MakeClient) -> None:
    client = make_client(InstantChatModel(), chat={"canonical_threshold": 0.3})
    r = client.post(
        "/ask",
        content="message=How+long+do+I+have+to+return+an+item%3F+%3Cscript%3E",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200 and "30 days" in r.text
    assert "<script>" not in r.text.split("</head>")[1] and "&lt;script&gt;" in r.text
    empty = client.post(
        "/ask", content="message=", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert "Please type a question." in empty.text


def test_the_page_speaks_the_browsers_language_without_javascript(
    make_client: MakeClient,
) -> None:
    client = make_client(InstantChatModel(), chat={"canonical_threshold": 0.3})
    german = {"accept-language": "de-DE,de;q=0.9,en;q=0.8"}
    page = client.get("/", headers=german).text
    assert '<html lang="de">' in page and "<title>Northwind Outdoor Hilfe</title>" in page
    assert "Deine Frage" in page and ">Senden</button>" in page and "Hallo!" in page
    english = client.get("/").text  # no header, or a language the page lacks: English
    assert '<html lang="en">' in english and "Your question" in english
    assert '<html lang="en">' in client.get("/", headers={"accept-language": "pt-BR"}).text

    form = {"content-type": "application/x-www-form-urlencoded", **german}
    answered = client.post(
        "/ask", content="message=How+long+do+I+have+to+return+an+item%3F", headers=form
    )
    assert answered.status_code == 200 and "30 days" in answered.text
    assert '<html lang="de">' in answered.text and "Antwort aus unseren FAQ" in answered.text
    empty = client.post("/ask", content="message=", headers=form)
    assert "Bitte gib eine Frage ein." in empty.text


def test_the_widget_gets_the_same_markup_as_the_page(make_client: MakeClient) -> None:
    """The chat's markup is written once (pages.shell): the page embeds it, the widget
    fetches it in its own language, with its own heading level."""
    client = make_client(InstantChatModel())
    german = {"accept-language": "de-DE"}
    panel = client.get("/v1/shell", params={"lang": "de", "heading": "h2"})
    assert panel.status_code == 200 and panel.headers["content-type"].startswith("text/html")
    assert '<h2 class="fb-title">Northwind Outdoor Hilfe</h2>' in panel.text
    assert 'data-lang="de"' in panel.text and "Deine Frage" in panel.text
    page = client.get("/", headers=german).text
    assert panel.text.replace("h2", "h1") in page
    # the shop's suggested questions are English: not offered on a German panel
    assert 'class="fb-suggestion"' not in panel.text
    assert 'class="fb-suggestion"' in client.get("/v1/shell").text
    assert client.get("/v1/shell", params={"lang": "../etc"}).status_code == 422
    assert client.get("/v1/shell", params={"heading": "script"}).status_code == 422
    assert "Your question" in client.get("/v1/shell", params={"lang": "pt"}).text
