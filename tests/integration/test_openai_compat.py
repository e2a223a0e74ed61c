"""The OpenAI-compatible adapter against a real OpenAI-compatible server: llama.cpp's own
(llama_cpp.server from llama-cpp-python[server]) serving the embedded SmolLM2 GGUF."""

from __future__ import annotations

import asyncio

import pytest

from service.config import LLMSettings
from service.llm.base import ChatMessage, GenerationOptions, ModelError, ModelUnavailable
from service.llm.factory import make_chat_model
from service.llm.openai_compat import OpenAICompatChatModel
from tests.servers import MODEL_ALIAS

pytestmark = pytest.mark.integration


def make(base_url: str, model: str = MODEL_ALIAS) -> OpenAICompatChatModel:
    m = make_chat_model(LLMSettings(provider="openai", base_url=base_url, model=model))
    assert isinstance(m, OpenAICompatChatModel)
    return m


def test_streams_an_answer(llama_server: str) -> None:
    async def scenario() -> list[str]:
        model = make(llama_server)
        try:
            await model.check()
            messages = [
                ChatMessage("system", "Answer briefly."),
                ChatMessage("user", "Say hello to the customer."),
            ]
            return [p async for p in model.stream(messages, GenerationOptions(max_tokens=24))]
        finally:
            await model.close()

    pieces = asyncio.run(scenario())
    assert len(pieces) >= 2 and "".join(pieces).strip()


def test_a_model_the_server_does_not_serve_is_named(llama_server: str) -> None:
    async def scenario() -> None:
        model = make(llama_server, model="gpt-4o")
        try:
            await model.check()
        finally:
            await model.close()

    with pytest.raises(ModelUnavailable, match="does not serve 'gpt-4o'.*smollm2"):
        asyncio.run(scenario())


def test_unreachable_server_is_a_model_error() -> None:
    async def scenario() -> None:
        model = make("http://127.0.0.1:9/v1")
        try:
            async for _ in model.stream([ChatMessage("user", "hi")], GenerationOptions()):
                pass
        finally:
            await model.close()

    with pytest.raises(ModelError):
        asyncio.run(scenario())
