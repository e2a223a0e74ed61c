"""Warm-up before the service takes traffic: the first customer after a start should
not pay for loading the index, the encoders or the model.

Runs in the lifespan's start-up, so uvicorn listens (and /readyz can say yes) only once
it is done. Each part is bounded and none is fatal: a part that fails is reported by
/readyz, and answers fall back to the FAQ's own text."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from service.chat.modes import resolve_answer_mode
from service.chat.prompt import PromptBuilder
from service.config import Settings
from service.llm.base import ChatModel, ModelError
from service.retrieval.retriever import Hit, Retriever

log = logging.getLogger("faqbot.warmup")
WORDING_MODES = ("generate", "hybrid")  # the modes in which customers wait for the model
QUESTION = "How long does delivery take?"  # any shop's question: searched, then worded


@dataclass
class WarmUp:
    """What the warm-up did, for the log (and app.state.warm_up)."""

    seconds: float = 0.0
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


async def warm_up(
    settings: Settings, model: ChatModel, retriever: Callable[[], Retriever]
) -> WarmUp:
    started = time.monotonic()
    result = WarmUp()
    try:
        await asyncio.wait_for(model.check(), settings.llm.first_token_timeout_s)
        result.done.append("model loaded")
    except (ModelError, TimeoutError) as exc:
        log.warning("model unavailable: %s", exc or type(exc).__name__)
        result.failed.append("model")
    hits = await _search(retriever, result)
    if resolve_answer_mode(settings.chat, settings.llm) in WORDING_MODES and "model" not in (
        result.failed
    ):
        await _prime(settings, model, hits, result)
    result.seconds = time.monotonic() - started
    log.info(
        "warmed up in %.1f s: %s%s",
        result.seconds,
        ", ".join(result.done) or "nothing",
        f"; failed: {', '.join(result.failed)}" if result.failed else "",
    )
    return result


async def _search(retriever: Callable[[], Retriever], result: WarmUp) -> list[Hit]:
    """Opens the index and runs the encoders once (the multilingual one too, about
    120 MB, when the index has other languages)."""

    def searches() -> list[Hit]:
        r = retriever()
        hits = r.search(QUESTION).hits
        if "de" in r.languages:
            r.search("Wie lange dauert der Versand?", None, "de")
        return hits

    try:
        hits = await asyncio.wait_for(asyncio.to_thread(searches), 60.0)
        result.done.append("index searched")
        return hits
    except Exception as exc:  # no index yet, or one that does not load: /readyz says so
        log.warning("index not ready: %s", exc or type(exc).__name__)
        result.failed.append("index")
        return []


async def _prime(settings: Settings, model: ChatModel, hits: list[Hit], result: WarmUp) -> None:
    """One real prompt, one token written: a model server loads the model into memory
    and caches the system prefix every answer starts with (Ollama, vLLM and llama.cpp
    all reuse a byte-identical prefix). Only where the model words answers."""
    prime = getattr(model, "prime", None)
    if prime is None:
        return
    prompt = PromptBuilder(settings.chat, model.count_tokens, settings.shop).build(
        QUESTION, hits[:1], []
    )
    try:
        await asyncio.wait_for(prime(prompt.messages), settings.llm.first_token_timeout_s)
        result.done.append("prompt prefix read")
    except (ModelError, TimeoutError) as exc:
        log.warning("model did not answer the warm-up prompt: %s", exc or type(exc).__name__)
        result.failed.append("model prefix")
