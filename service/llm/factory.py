"""Chooses the chat model from settings; each backend is imported only when chosen."""

from __future__ import annotations

from typing import Any

from service.config import LLMSettings
from service.llm.base import ChatModel


def make_chat_model(settings: LLMSettings, **client_kwargs: Any) -> ChatModel:
    if settings.provider == "ollama":
        from service.llm.ollama_model import OllamaChatModel

        return OllamaChatModel(
            settings.host,
            settings.model,
            num_ctx=settings.num_ctx,
            keep_alive=settings.keep_alive,
            connect_timeout=settings.connect_timeout_s,
            read_timeout=settings.total_timeout_s,
            **client_kwargs,
        )
    if settings.provider == "openai":
        from service.llm.openai_compat import OpenAICompatChatModel

        return OpenAICompatChatModel(
            settings.base_url,
            settings.model,
            settings.api_key.get_secret_value(),
            connect_timeout=settings.connect_timeout_s,
            read_timeout=settings.total_timeout_s,
            **client_kwargs,
        )
    from service.llm.llamacpp import LlamaCppChatModel

    return LlamaCppChatModel(settings.gguf_path, settings.num_ctx, settings.threads)
