"""The chat API end to end: real retrieval, real SQLite, models that answer exactly
(instant), fail (Ollama fake down or stalling), or decline to be called."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from service.api.health import DOWN_REASONS
from service.llm.base import ModelError
from tests.fakes.instant_model import InstantChatModel
from tests.fakes.ollama_server import FakeOllama, FakeOllamaBehaviour
from tests.sse import sse_events

pytestmark = pytest.mark.integration
MakeClient = Callable[..., TestClient]
GENERATE = {"chat": {"answer_mode": "generate"}}


def test_generated_answer_with_sources_and_timings(make_client: MakeClient) -> None:
    model = InstantChatModel("You can return unworn items within 30 days [1]. See also [7].")
    client = make_client(model, **GENERATE)
    r = client.post("/v1/chat", json={"message": "How long do I have to return something?"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["mode"] == "generated"
    # Citations are by construction: each sentence cites the passage it came from.
    assert body["answer"] == "You can return unworn items within 30 days [1]. See also [1]."
    assert body["sources"][0] == {
        "n": 1,
        "id": "returns-window",
        "title": "How long do I have to return an item?",
        "url": "https://help.example/returns#returns-window",
    }
    assert set(body["timings"]) == {
        "retrieve_ms",
        "llm_queue_ms",
        "llm_first_token_ms",
        "llm_total_ms",
        "total_ms",
    }
    assert body["timings"]["llm_first_token_ms"] is not None
    # the prompt: fixed system prefix, then the fenced passage and the question
    system, user = model.prompts[0]
    assert system.role == "system" and "Rules:" in system.content
    assert '<faq n="1" title="How long do I have to return an item?">' in user.content
    assert user.content.endswith("<question>\nHow long do I have to return something?\n</question>")


def test_stream_sends_sources_then_tokens_then_done(make_client: MakeClient) -> None:
    client = make_client(InstantChatModel("Thirty days [1]."), **GENERATE)
    r = client.post("/v1/chat/stream", json={"message": "How long do I have to return an item?"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r.text)
    kinds = [k for k, _ in events]
    assert kinds[0] == "sources" and kinds[-1] == "done"
    assert set(kinds[1:-1]) == {"token"}
    tokens = "".join(str(d["text"]) for k, d in events if k == "token")
    assert tokens.strip() == "Thirty days [1]."
    done = events[-1][1]
    assert done["answer"] == "Thirty days [1]." and done["mode"] == "generated"


def test_off_topic_question_is_declined_without_calling_the_model(make_client: MakeClient) -> None:
    model = InstantChatModel()
    client = make_client(model, **GENERATE)
    body = client.post("/v1/chat", json={"message": "What is the capital of Australia?"}).json()
    assert body["mode"] == "abstained"
    assert "hello@northwind-outdoor.example" in body["answer"]  # the human channel
    assert body["sources"] == []
    assert model.prompts == []


def test_confident_match_is_answered_canonically_in_hybrid_mode(make_client: MakeClient) -> None:
    model = InstantChatModel()
    client = make_client(model, chat={"answer_mode": "hybrid", "canonical_threshold": 0.5})
    body = client.post("/v1/chat", json={"message": "How long do I have to return an item?"}).json()
    assert body["mode"] == "canonical"
    assert body["answer"] == "You can return unworn items within 30 days of delivery."
    assert body["sources"][0]["id"] == "returns-window"
    assert model.prompts == []


def test_model_failure_falls_back_to_the_canonical_answer(make_client: MakeClient) -> None:
    model = InstantChatModel()
    model.enqueue(ModelError("boom"))
    client = make_client(model, **GENERATE)
    body = client.post("/v1/chat", json={"message": "How long do I have to return an item?"}).json()
    assert body["mode"] == "fallback"
    assert body["answer"] == "You can return unworn items within 30 days of delivery."


def test_ollama_down_falls_back_and_readyz_names_the_part(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    from service.config import LLMSettings
    from service.llm.factory import make_chat_model

    model = make_chat_model(
        LLMSettings(provider="ollama", host="http://127.0.0.1:9", connect_timeout_s=0.5)
    )
    client = make_client(model, **GENERATE)
    body = client.post("/v1/chat", json={"message": "Which countries do you ship to?"}).json()
    assert body["mode"] == "fallback"
    assert "EU" in body["answer"]
    ready = client.get("/readyz")
    assert ready.status_code == 503
    # The public body names the part; what went wrong is in the log only.
    assert ready.json() == {
        "ready": False,
        "checks": {"index": "ok", "model": "down", "database": "ok", "orders": "ok"},
        "reasons": {"model": DOWN_REASONS["model"]},
    }
    assert "not reachable" in caplog.text and "not reachable" not in ready.text
    assert client.get("/healthz").json() == {"status": "ok"}


def test_stalled_ollama_hits_the_first_token_timeout(make_client: MakeClient) -> None:
    from service.config import LLMSettings
    from service.llm.factory import make_chat_model

    with FakeOllama(FakeOllamaBehaviour(stall_before_first_s=5)) as fake:
        model = make_chat_model(LLMSettings(provider="ollama", host=fake.url))
        client = make_client(model, llm={"first_token_timeout_s": 0.5}, **GENERATE)
        body = client.post("/v1/chat", json={"message": "Which countries do you ship to?"}).json()
        assert body["mode"] == "fallback"
        assert body["timings"]["llm_total_ms"] < 4000  # gave up long before the stall ended
        assert client.get("/readyz").status_code == 200


def test_ollama_answer_through_the_api(make_client: MakeClient) -> None:
    from service.config import LLMSettings
    from service.llm.factory import make_chat_model

    with FakeOllama(FakeOllamaBehaviour(reply="We ship to the EU and the UK [1].")) as fake:
        model = make_chat_model(LLMSettings(provider="ollama", host=fake.url))
        client = make_client(model, **GENERATE)
        body = client.post("/v1/chat", json={"message": "Which countries do you ship to?"}).json()
        assert body["mode"] == "generated"
        assert body["answer"] == "We ship to the EU and the UK [1]."


def test_feedback_is_stored_with_question_and_retrieval(make_client: MakeClient) -> None:
    import sqlalchemy as sa

    client = make_client(InstantChatModel("Thirty days [1]."), **GENERATE)
    body = client.post("/v1/chat", json={"message": "How long do I have to return an item?"}).json()
    r = client.post(
        "/v1/feedback",
        json={"message_id": body["message_id"], "rating": "down", "comment": "too short"},
    )
    assert r.status_code == 201
    engine = sa.create_engine(client.app.state.settings.db.url)  # type: ignore[attr-defined]
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("select rating, comment, question, retrieved from feedback")
        ).one()
    assert row.rating == "down" and row.comment == "too short"
    assert row.question == "How long do I have to return an item?"
    assert json.loads(row.retrieved)[0]["id"] == "returns-window"
    assert (
        client.post("/v1/feedback", json={"message_id": "nope", "rating": "up"}).status_code == 404
    )
    assert client.post("/v1/feedback", json={"message_id": "x", "rating": "meh"}).status_code == 422


def test_sessions_keep_history_and_follow_ups_use_it(make_client: MakeClient) -> None:
    model = InstantChatModel("Answer [1].")
    client = make_client(model, **GENERATE)
    first = client.post("/v1/chat", json={"message": "How much does shipping cost?"}).json()
    follow = client.post(
        "/v1/chat",
        json={"message": "and what are the delivery fees?", "session_id": first["session_id"]},
    ).json()
    assert follow["session_id"] == first["session_id"]
    user = model.prompts[-1][1].content
    assert (
        "<history>\nCustomer: How much does shipping cost?\nAssistant: Answer [1].\n</history>"
        in user
    )


def test_cache_answers_repeat_questions_without_the_model(make_client: MakeClient) -> None:
    model = InstantChatModel("Thirty days [1].")
    client = make_client(model, **GENERATE)
    first = client.post(
        "/v1/chat", json={"message": "How long do I have to return an item?"}
    ).json()
    again = client.post("/v1/chat", json={"message": "how long do I have to return an item"}).json()
    assert (first["cached"], again["cached"]) == (False, True)
    assert again["answer"] == first["answer"] and len(model.prompts) == 1


def test_bad_input_gets_clear_4xx(make_client: MakeClient) -> None:
    client = make_client(InstantChatModel(), **GENERATE)
    assert client.post("/v1/chat", json={"message": ""}).status_code == 422
    assert client.post("/v1/chat", json={"message": "x" * 5000}).status_code == 422
    assert client.post("/v1/chat", json={"message": "\u0000\u0007"}).status_code == 422
    assert (
        client.post("/v1/chat", json={"message": "hi", "session_id": "'; drop"}).status_code == 422
    )
    assert client.post("/v1/chat", content=b"not json").status_code == 422


def test_queue_bound_gives_429_with_retry_after(make_client: MakeClient) -> None:
    client = make_client(InstantChatModel(), llm={"max_concurrent": 1, "max_queue": 0}, **GENERATE)
    limiter = client.app.state.limiter  # type: ignore[attr-defined]
    limiter._slots._value = 0  # the only slot is taken by a long generation  # noqa: SLF001
    r = client.post("/v1/chat", json={"message": "How long do I have to return an item?"})
    assert r.status_code == 429 and r.headers["retry-after"] == "5"
    limiter._slots._value = 1  # noqa: SLF001
    assert (
        client.post("/v1/chat", json={"message": "Which countries do you ship to?"}).status_code
        == 200
    )
