"""Warm-up at start: the index, the encoders and, where the model words answers, the
model itself read the prompt prefix before the service listens, so /readyz never says
yes to a server whose first customer would wait for loading. A protocol-faithful Ollama
server records what it was asked."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.fakes.ollama_server import FakeOllama, FakeOllamaBehaviour

MakeClient = Callable[..., TestClient]


def _chats(fake: FakeOllama) -> list[dict[str, object]]:
    return [r for r in fake.behaviour.requests if r["path"] == "/api/chat"]


def test_a_served_model_reads_the_prompt_prefix_before_the_first_customer(
    make_client: MakeClient,
) -> None:
    from service.config import LLMSettings
    from service.llm.factory import make_chat_model

    with FakeOllama(FakeOllamaBehaviour(reply="We ship to the EU and the UK [1].")) as fake:
        model = make_chat_model(LLMSettings(provider="ollama", host=fake.url))
        client = make_client(model, chat={"answer_mode": "generate"})
        warm = _chats(fake)
        assert len(warm) == 1, "the model was not asked anything before traffic"
        assert warm[0]["options"]["num_predict"] == 1  # type: ignore[index]
        assert client.app.state.warm_up.done == [  # type: ignore[attr-defined]
            "model loaded",
            "index searched",
            "prompt prefix read",
        ]
        assert client.get("/readyz").status_code == 200
        client.post("/v1/chat", json={"message": "Which countries do you ship to?"})
        first = _chats(fake)[1]
        # the customer's prompt starts with the very system message the warm-up sent,
        # so the server's prefix cache holds it
        assert first["messages"][0] == warm[0]["messages"][0]  # type: ignore[index]


def test_no_model_call_at_start_where_the_model_words_nothing(make_client: MakeClient) -> None:
    from service.config import LLMSettings
    from service.llm.factory import make_chat_model

    with FakeOllama(FakeOllamaBehaviour()) as fake:
        model = make_chat_model(LLMSettings(provider="ollama", host=fake.url))
        client = make_client(model, chat={"answer_mode": "canonical_first"})
        assert _chats(fake) == []
        assert "index searched" in client.app.state.warm_up.done  # type: ignore[attr-defined]


def test_a_stalled_model_delays_start_by_its_first_token_timeout_only(
    make_client: MakeClient,
) -> None:
    from service.config import LLMSettings
    from service.llm.factory import make_chat_model

    with FakeOllama(FakeOllamaBehaviour(stall_before_first_s=30)) as fake:
        model = make_chat_model(LLMSettings(provider="ollama", host=fake.url))
        client = make_client(
            model, chat={"answer_mode": "hybrid"}, llm={"first_token_timeout_s": 0.5}
        )
        warm = client.app.state.warm_up  # type: ignore[attr-defined]
        assert warm.failed == ["model prefix"] and "index searched" in warm.done
        # the service started and answers (from the FAQ's text while the model stalls)
        r = client.post("/v1/chat", json={"message": "How long do I have to return an item?"})
        assert r.status_code == 200
