"""The ChatModel protocol and the errors every adapter maps its failures to."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


# Where a support answer is over: the model closing our scaffolding or starting a new
# turn (each backend stops before emitting the stop text). Not "<faq": small models
# often open their answer by echoing the passage's fence, and the guard strips it.
STOP_SEQUENCES = ("</faq", "</question", "\nCustomer:", "\nQuestion:")


@dataclass(frozen=True)
class GenerationOptions:
    max_tokens: int = 256
    temperature: float = 0.0
    repeat_penalty: float = 1.15
    stop: tuple[str, ...] = STOP_SEQUENCES


class ModelError(RuntimeError):
    """The model could not answer (down, missing, failed). Callers fall back."""


class ModelUnavailable(ModelError):
    """The model is not there; the message says what to do (e.g. which `ollama pull`)."""


class ChatModel(Protocol):
    """Streams an answer for a list of messages."""

    @property
    def name(self) -> str: ...

    @property
    def max_concurrency(self) -> int | None:
        """Generations the model runs at once (None: the server decides, e.g. Ollama's
        OLLAMA_NUM_PARALLEL). Admission never lets more than this wait on the model."""
        ...

    async def check(self) -> None:
        """Raise ModelUnavailable, with an actionable message, if the model cannot serve."""
        ...

    def stream(
        self, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> AsyncIterator[str]:
        """Yield text pieces as the model produces them."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` by the model's own tokenizer where available."""
        ...

    async def close(self) -> None: ...


def as_role_dicts(messages: Sequence[ChatMessage]) -> list[dict[str, str]]:
    """The chat-API wire form every backend takes: [{"role", "content"}]."""
    return [{"role": m.role, "content": m.content} for m in messages]


def approximate_tokens(text: str) -> int:
    """About 4 characters a token for English with BPE tokenizers; used only where the
    model's tokenizer is not reachable from here (Ollama, OpenAI-compatible servers)."""
    return max(1, (len(text) + 3) // 4)


async def read_prompt_once(model: ChatModel, messages: Sequence[ChatMessage]) -> None:
    """Has the model read ``messages`` and write one token: the adapters' ``prime``
    (service/warmup.py), so a model server loads the model and caches the prompt's
    prefix before the first customer asks."""
    pieces = model.stream(messages, GenerationOptions(max_tokens=1, stop=()))
    try:
        async for _ in pieces:
            break
    finally:
        close = getattr(pieces, "aclose", None)
        if close is not None:  # ends the request at once instead of at garbage collection
            await close()
