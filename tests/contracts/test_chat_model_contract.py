"""One contract for every ChatModel: the instant fake, llama.cpp in process, llama.cpp's
OpenAI-compatible server through the openai adapter, and the Ollama adapter against the
protocol-faithful fake. A new adapter gets the whole contract by adding a param."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from service.config import LLMSettings
from service.llm.base import ChatMessage, ChatModel, GenerationOptions, ModelError, ModelUnavailable
from service.llm.factory import make_chat_model
from tests.fakes.instant_model import InstantChatModel
from tests.fakes.ollama_server import FakeOllama, FakeOllamaBehaviour
from tests.servers import MODEL_ALIAS

T = TypeVar("T")

MESSAGES = [
    ChatMessage("system", "You answer customers of an outdoor shop in one sentence."),
    ChatMessage("user", "Say hello to the customer."),
]
Pair = tuple[ChatModel, ChatModel]  # a working model, and one that is not there
# Models are made inside the test's event loop: HTTP clients belong to one loop.
MakePair = Callable[[], Pair]


def _instant(_: pytest.FixtureRequest) -> Iterator[MakePair]:
    yield lambda: (InstantChatModel("Hello and welcome."), InstantChatModel(available=False))


def _llamacpp(_: pytest.FixtureRequest) -> Iterator[MakePair]:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is installed by `make test`")
    from service.llm.llamacpp import LlamaCppChatModel

    working = LlamaCppChatModel(None, n_ctx=1024)  # loaded once, shared by the tests
    yield lambda: (working, LlamaCppChatModel(Path("/nonexistent.gguf"), 512))


def _openai_server(request: pytest.FixtureRequest) -> Iterator[MakePair]:
    base = request.getfixturevalue("llama_server")
    yield lambda: (
        make_chat_model(LLMSettings(provider="openai", base_url=base, model=MODEL_ALIAS)),
        # No server there (llama.cpp's server answers for any model name; that a model
        # it does not serve is refused by check() is tested in test_openai_compat).
        make_chat_model(
            LLMSettings(provider="openai", base_url="http://127.0.0.1:9/v1", connect_timeout_s=1)
        ),
    )


def _ollama_fake(_: pytest.FixtureRequest) -> Iterator[MakePair]:
    with FakeOllama(FakeOllamaBehaviour(reply="Hello and welcome to the shop.")) as fake:
        yield lambda: (
            make_chat_model(LLMSettings(provider="ollama", host=fake.url)),
            make_chat_model(LLMSettings(provider="ollama", host=fake.url, model="nope:1b")),
        )


IMPLEMENTATIONS: dict[str, Callable[[pytest.FixtureRequest], Iterator[MakePair]]] = {
    "instant": _instant,
    "llamacpp": _llamacpp,
    "openai-server": _openai_server,
    "ollama-fake": _ollama_fake,
}


@pytest.fixture(
    params=[
        pytest.param(name, marks=[] if name == "instant" else [pytest.mark.integration])
        for name in IMPLEMENTATIONS
    ]
)
def make_pair(request: pytest.FixtureRequest) -> Iterator[MakePair]:
    yield from IMPLEMENTATIONS[request.param](request)


def run(make_pair: MakePair, scenario: Callable[[ChatModel, ChatModel], Awaitable[T]]) -> T:
    async def main() -> T:
        working, gone = make_pair()
        try:
            return await scenario(working, gone)
        finally:
            await working.close()
            await gone.close()

    return asyncio.run(main())


async def _collect(model: ChatModel, max_tokens: int = 16) -> list[str]:
    return [p async for p in model.stream(MESSAGES, GenerationOptions(max_tokens, 0.0))]


class TestChatModelContract:
    def test_names_itself_and_its_concurrency(self, make_pair: MakePair) -> None:
        model, _ = make_pair()
        assert model.name and isinstance(model.name, str)
        assert model.max_concurrency is None or model.max_concurrency >= 1

    def test_a_working_model_passes_its_check_and_streams_text(self, make_pair: MakePair) -> None:
        async def scenario(model: ChatModel, _: ChatModel) -> list[str]:
            await model.check()
            return await _collect(model)

        pieces = run(make_pair, scenario)
        assert pieces and all(isinstance(p, str) for p in pieces)
        assert "".join(pieces).strip()

    def test_counts_tokens_monotonically(self, make_pair: MakePair) -> None:
        model, _ = make_pair()
        short = model.count_tokens("Hello")
        longer = model.count_tokens("Hello, how long do I have to return my jacket?")
        assert 1 <= short < longer

    def test_a_stream_can_be_abandoned_and_the_model_used_again(self, make_pair: MakePair) -> None:
        async def scenario(model: ChatModel, _: ChatModel) -> tuple[str, str]:
            stream = model.stream(MESSAGES, GenerationOptions(32, 0.0))
            piece = await anext(stream)
            await stream.aclose()  # type: ignore[attr-defined]
            return piece, "".join(await _collect(model))

        first, again = run(make_pair, scenario)
        assert first and again.strip()

    def test_a_missing_model_is_unavailable_not_a_crash(self, make_pair: MakePair) -> None:
        async def scenario(_: ChatModel, gone: ChatModel) -> None:
            with pytest.raises(ModelUnavailable):
                await gone.check()
            with pytest.raises(ModelError):
                await _collect(gone)

        run(make_pair, scenario)
