"""Ollama through the official client (streaming chat, keep_alive, num_ctx, options)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx

from service.llm.base import (
    ChatMessage,
    GenerationOptions,
    ModelError,
    ModelUnavailable,
    approximate_tokens,
    as_role_dicts,
    read_prompt_once,
)


class OllamaChatModel:
    def __init__(
        self,
        host: str,
        model: str,
        *,
        num_ctx: int,
        keep_alive: str | float,
        connect_timeout: float,
        read_timeout: float,
        **client_kwargs: Any,
    ) -> None:
        import ollama

        self._model = model
        self._host = host
        self._num_ctx = num_ctx
        self._keep_alive = keep_alive
        # client_kwargs go to httpx (tests pass transport=...); timeouts are per phase.
        self._client = ollama.AsyncClient(
            host=host,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            **client_kwargs,
        )

    @property
    def max_concurrency(self) -> int | None:
        return None

    @property
    def name(self) -> str:
        return f"ollama:{self._model}"

    async def check(self) -> None:
        import ollama

        try:
            await self._client.show(self._model)
        except ollama.ResponseError as exc:
            if exc.status_code == 404:
                raise ModelUnavailable(
                    f"Ollama at {self._host} has no model {self._model!r}: "
                    f"run `ollama pull {self._model}` on the Ollama host"
                ) from exc
            raise ModelUnavailable(f"Ollama at {self._host}: {exc.error}") from exc
        except (httpx.HTTPError, ConnectionError) as exc:
            raise ModelUnavailable(f"Ollama is not reachable at {self._host}: {exc}") from exc

    def count_tokens(self, text: str) -> int:
        return approximate_tokens(text)

    async def stream(
        self, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> AsyncIterator[str]:
        import ollama

        try:
            response = await self._client.chat(
                model=self._model,
                messages=as_role_dicts(messages),
                stream=True,
                keep_alive=self._keep_alive,
                options={
                    "num_ctx": self._num_ctx,
                    "num_predict": options.max_tokens,
                    "temperature": options.temperature,
                    "repeat_penalty": options.repeat_penalty,
                    "stop": list(options.stop),
                },
            )
            async for part in response:
                content = part.message.content if part.message else None
                if content:
                    yield content
        except ollama.ResponseError as exc:
            if exc.status_code == 404:
                raise ModelUnavailable(
                    f"Ollama has no model {self._model!r}: run `ollama pull {self._model}`"
                ) from exc
            raise ModelError(f"Ollama error {exc.status_code}: {exc.error}") from exc
        except (httpx.HTTPError, ConnectionError) as exc:
            raise ModelError(f"Ollama request failed: {exc}") from exc

    async def prime(self, messages: Sequence[ChatMessage]) -> None:
        await read_prompt_once(self, messages)

    async def close(self) -> None:
        await self._client._client.aclose()  # the client exposes no close of its own
