"""POST /v1/chat/completions and GET /v1/models, driven by the real `openai` client over
HTTP against the real server."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import openai
import pytest
from pydantic import SecretStr

from tests.fakes.instant_model import InstantChatModel

pytestmark = pytest.mark.integration
KEY = "test-key-0123456789abcdef"
RETURNS = "How long do I have to return an item?"


@pytest.fixture
def base(live_server: Callable[..., str]) -> str:
    return live_server(InstantChatModel(), compat={"api_key": SecretStr(KEY)})


def client(base: str, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0, timeout=30)


def test_it_is_off_until_a_key_is_set(live_server: Callable[..., str]) -> None:
    base = live_server(InstantChatModel())
    with pytest.raises(openai.NotFoundError):
        client(base).chat.completions.create(
            model="faqbot", messages=[{"role": "user", "content": RETURNS}]
        )
    assert httpx.get(f"{base}/v1/models").status_code == 404


def test_a_wrong_key_is_refused(base: str) -> None:
    with pytest.raises(openai.AuthenticationError):
        client(base, "wrong-key-0123456789").models.list()
    assert httpx.post(f"{base}/v1/chat/completions", json={}).status_code == 401


def test_models_lists_faqbot(base: str) -> None:
    assert [m.id for m in client(base).models.list()] == ["faqbot"]


def test_an_answer_with_sources_and_a_conversation_that_continues(base: str) -> None:
    c = client(base)
    history = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": RETURNS},
    ]
    first = c.chat.completions.create(model="faqbot", messages=history, temperature=0.2)
    text = first.choices[0].message.content or ""
    assert "30 days" in text and "Sources:\n[1] How long do I have to return an item?" in text
    assert first.choices[0].finish_reason == "stop"
    extra = first.model_extra or {}
    session = extra["faqbot"]["session_id"]
    second = c.chat.completions.create(
        model="faqbot",
        messages=[
            *history,
            {"role": "assistant", "content": text},
            {"role": "user", "content": "and for sale items?"},
        ],
        user=session,
    )
    assert (second.model_extra or {})["faqbot"]["session_id"] == session


def test_a_streamed_answer_arrives_in_chunks_and_ends_with_its_sources(base: str) -> None:
    stream = client(base).chat.completions.create(
        model="faqbot", messages=[{"role": "user", "content": RETURNS}], stream=True
    )
    chunks = list(stream)
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks)
    assert "30 days" in text and text.rstrip().endswith("returns#returns-window")
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[0].choices[0].delta.role == "assistant"


def test_a_declined_question_says_so_in_the_openai_shape(base: str) -> None:
    reply = client(base).chat.completions.create(
        model="faqbot", messages=[{"role": "user", "content": "Write a poem about volcanoes"}]
    )
    assert (reply.model_extra or {})["faqbot"]["mode"] == "abstained"
    assert "Sources:" not in (reply.choices[0].message.content or "")


def test_bad_conversations_are_refused_with_openai_errors(base: str) -> None:
    c = client(base)
    with pytest.raises(openai.BadRequestError):
        c.chat.completions.create(
            model="faqbot", messages=[{"role": "assistant", "content": "hello"}]
        )
    with pytest.raises(openai.UnprocessableEntityError):
        c.chat.completions.create(model="faqbot", messages=[])
    with pytest.raises(openai.BadRequestError):
        c.chat.completions.create(
            model="faqbot", messages=[{"role": "user", "content": "x" * 5000}]
        )


def test_a_generated_answer_streams_as_the_model_writes(live_server: Callable[..., str]) -> None:
    model = InstantChatModel("You can return unworn items within 30 days of delivery [1].")
    base = live_server(model, compat={"api_key": SecretStr(KEY)}, chat={"answer_mode": "generate"})
    stream = client(base).chat.completions.create(
        model="faqbot", messages=[{"role": "user", "content": RETURNS}], stream=True
    )
    chunks = list(stream)
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks)
    assert "30 days" in text and "Sources:" in text
    # role, the answer as the guard passes it, then the sources with "stop"
    middle = [ch.choices[0] for ch in chunks[1:-1]]
    assert middle and all(c.delta.content and c.finish_reason is None for c in middle)
    assert model.prompts  # the model was asked
