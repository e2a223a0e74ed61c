"""Any OpenAI-compatible server: vLLM, llama.cpp's server, LM Studio, GPT4All."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from service.llm.base import (
    ChatMessage,
    GenerationOptions,
    ModelError,
    ModelUnavailable,
    approximate_tokens,
    as_role_dicts,
    read_prompt_once,
)


class OpenAICompatChatModel:
    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str,
        *,
        connect_timeout: float,
        read_timeout: float,
        **client_kwargs: Any,
    ) -> None:
        import openai

        self._model = model
        self._base_url = base_url
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or "not-needed",
            timeout=openai.Timeout(read_timeout, connect=connect_timeout),
            max_retries=0,  # retries would multiply customer waiting time; we fall back
            **client_kwargs,
        )

    @property
    def max_concurrency(self) -> int | None:
        return None

    @property
    def name(self) -> str:
        return f"openai:{self._model}"

    async def check(self) -> None:
        import openai

        try:
            models = await self._client.models.list()
        except openai.APIError as exc:
            raise ModelUnavailable(f"OpenAI-compatible server at {self._base_url}: {exc}") from exc
        ids = {m.id for m in models.data}
        if ids and self._model not in ids:
            raise ModelUnavailable(
                f"{self._base_url} does not serve {self._model!r} "
                f"(it has: {', '.join(sorted(ids))})"
            )

    def count_tokens(self, text: str) -> int:
        return approximate_tokens(text)

    async def stream(
        self, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> AsyncIterator[str]:
        import openai

        try:
            response = await self._client.chat.completions.create(
                model=self._model,
                messages=as_role_dicts(messages),  # type: ignore[arg-type]
                max_tokens=options.max_tokens,
                temperature=options.temperature,
                stop=list(options.stop)[:4],  # the OpenAI API takes at most four
                # llama.cpp's server reads repeat_penalty, vLLM repetition_penalty.
                extra_body={
                    "repeat_penalty": options.repeat_penalty,
                    "repetition_penalty": options.repeat_penalty,
                },
                stream=True,
            )
            async for chunk in response:  # type: ignore[union-attr]
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
        except openai.NotFoundError as exc:
            raise ModelUnavailable(f"{self._base_url}: model {self._model!r} not found") from exc
        except openai.APIError as exc:
            raise ModelError(f"OpenAI-compatible server error: {exc}") from exc

    async def prime(self, messages: Sequence[ChatMessage]) -> None:
        await read_prompt_once(self, messages)

    async def close(self) -> None:
        await self._client.close()
