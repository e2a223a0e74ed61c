"""The Ollama adapter over real HTTP against a fake that follows Ollama's documented API."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from service.config import LLMSettings
from service.llm.base import ChatMessage, GenerationOptions, ModelError, ModelUnavailable
from service.llm.factory import make_chat_model
from service.llm.ollama_model import OllamaChatModel
from tests.fakes.ollama_server import FakeOllama, FakeOllamaBehaviour

pytestmark = pytest.mark.integration
MESSAGES = [ChatMessage("system", "rules"), ChatMessage("user", "how long to return?")]


@pytest.fixture
def fake() -> Iterator[FakeOllama]:
    with FakeOllama(FakeOllamaBehaviour(reply="You have 30 days [1].")) as server:
        yield server


def model_for(
    fake: FakeOllama, name: str = "qwen2.5:0.5b", read_timeout: float = 10
) -> OllamaChatModel:
    settings = LLMSettings(
        provider="ollama",
        host=fake.url,
        model=name,
        num_ctx=4096,
        keep_alive="45m",
        total_timeout_s=read_timeout,
    )
    model = make_chat_model(settings)
    assert isinstance(model, OllamaChatModel)
    return model


async def collect(model: OllamaChatModel) -> str:
    try:
        return "".join([p async for p in model.stream(MESSAGES, GenerationOptions(max_tokens=50))])
    finally:
        await model.close()


async def check(model: OllamaChatModel) -> None:
    try:
        await model.check()
    finally:
        await model.close()


def test_streams_ndjson_pieces_and_sends_options(fake: FakeOllama) -> None:
    async def scenario() -> list[str]:
        model = model_for(fake)
        try:
            return [p async for p in model.stream(MESSAGES, GenerationOptions(max_tokens=50))]
        finally:
            await model.close()

    pieces = asyncio.run(scenario())
    assert "".join(pieces) == "You have 30 days [1]."
    assert len(pieces) == 5  # one NDJSON line per word
    sent = [r for r in fake.behaviour.requests if r["path"] == "/api/chat"][-1]
    assert sent["stream"] is True
    assert sent["keep_alive"] == "45m"
    assert sent["options"]["num_ctx"] == 4096 and sent["options"]["num_predict"] == 50
    assert sent["messages"][0] == {"role": "system", "content": "rules"}


def test_check_passes_for_an_existing_model(fake: FakeOllama) -> None:
    asyncio.run(check(model_for(fake)))


def test_missing_model_says_which_pull_to_run(fake: FakeOllama) -> None:
    with pytest.raises(ModelUnavailable, match=r"ollama pull qwen2\.5:7b"):
        asyncio.run(check(model_for(fake, name="qwen2.5:7b")))
    with pytest.raises(ModelUnavailable, match=r"ollama pull qwen2\.5:7b"):
        asyncio.run(collect(model_for(fake, name="qwen2.5:7b")))


def test_unreachable_server_is_reported() -> None:
    settings = LLMSettings(provider="ollama", host="http://127.0.0.1:9", connect_timeout_s=1)
    with pytest.raises(ModelUnavailable, match="not reachable"):
        asyncio.run(check(make_chat_model(settings)))  # type: ignore[arg-type]
    with pytest.raises(ModelError):
        asyncio.run(collect(make_chat_model(settings)))  # type: ignore[arg-type]


def test_slow_first_token_is_only_late_not_lost(fake: FakeOllama) -> None:
    fake.behaviour.stall_before_first_s = 0.5
    assert asyncio.run(collect(model_for(fake))) == "You have 30 days [1]."
