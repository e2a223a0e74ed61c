"""Chat service benchmark: overhead, streaming latency, cache hits, prompt size and time to
first token, and 10 concurrent clients against the embedded model.

Run: .venv/bin/python bench/chat_service.py [--stackfaq ../shared/eval/stackfaq]
Prints the numbers and rewrites its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import machine_description, write_section  # noqa: E402
from ingest.pipeline import IngestPipeline  # noqa: E402
from service.app import create_app  # noqa: E402
from service.chat.prompt import PromptBuilder  # noqa: E402
from service.config import Settings  # noqa: E402
from service.db.migrations import upgrade  # noqa: E402
from service.llm.base import ChatMessage, GenerationOptions  # noqa: E402
from service.llm.llamacpp import LlamaCppChatModel  # noqa: E402
from service.retrieval.embedder import Embedder, make_embedder  # noqa: E402
from service.retrieval.live import LiveRetriever  # noqa: E402
from service.retrieval.retriever import Retriever  # noqa: E402
from service.retrieval.store import IndexStore  # noqa: E402
from service.retrieval.vector_index import make_vector_backend  # noqa: E402
from tests.fakes.instant_model import InstantChatModel  # noqa: E402
from tests.fakes.ollama_server import free_port  # noqa: E402


def pct(xs: Sequence[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


class TimedModel(InstantChatModel):
    """Yields a token every `gap` seconds and records when each was produced."""

    def __init__(self, gap: float) -> None:
        super().__init__("Thirty days from delivery [1].")
        self.gap = gap
        self.produced: list[float] = []

    async def stream(
        self, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> AsyncIterator[str]:
        for word in self.default_reply.split(" "):
            await asyncio.sleep(self.gap)
            self.produced.append(time.monotonic())
            yield word + " "


class Server:
    def __init__(self, app: object) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")  # type: ignore[arg-type]
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> Server:
        self._thread.start()
        while not self._server.started:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)


def build_index(root: Path, sources: list[Path], embedder: Embedder) -> Settings:
    settings = Settings(index={"path": root / "index"}, db={"url": f"sqlite:///{root}/chat.db"})
    store = IndexStore(settings.index.path)
    backend = make_vector_backend(settings.index, embedder)
    IngestPipeline(settings, embedder, backend, store, log=lambda _: None).run(sources)
    upgrade(settings.db.url)
    return settings


def retriever_for(settings: Settings, embedder: Embedder) -> LiveRetriever:
    store = IndexStore(settings.index.path)
    backend = make_vector_backend(settings.index, embedder)
    return LiveRetriever(
        store, lambda v: Retriever.open(store, backend, embedder, settings.retrieval, version=v)
    )


def with_updates(settings: Settings, **groups: dict[str, object]) -> Settings:
    for group, values in groups.items():
        settings = settings.model_copy(
            update={group: getattr(settings, group).model_copy(update=values)}
        )
    return settings


def gate_questions() -> list[str]:
    path = ROOT / "data" / "eval" / "questions.jsonl"
    return [json.loads(line)["query"] for line in path.read_text().splitlines()]


def overhead(settings: Settings, embedder: Embedder, questions: list[str]) -> dict[str, str]:
    s = with_updates(settings, chat={"answer_mode": "generate", "cache_size": 0})
    live = retriever_for(s, embedder)
    rows: dict[str, str] = {}
    app = create_app(s, model=InstantChatModel(), retriever=live.current)
    with Server(app) as srv, httpx.Client(base_url=srv.url, timeout=30) as client:
        for q in questions[:10]:
            client.post("/v1/chat", json={"message": q})  # warm up
        lat = []
        for q in questions:
            t = time.perf_counter()
            r = client.post("/v1/chat", json={"message": q})
            lat.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, r.text
        rows["service overhead, instant model (p50 / p95)"] = (
            f"{statistics.median(lat):.1f} / {pct(lat, 0.95):.1f} ms over {len(lat)} "
            "questions (HTTP, retrieval, prompt, SQLite writes)"
        )
    cached = with_updates(settings, chat={"answer_mode": "generate"})
    live = retriever_for(cached, embedder)
    app = create_app(cached, model=InstantChatModel(), retriever=live.current)
    with Server(app) as srv, httpx.Client(base_url=srv.url, timeout=30) as client:
        hits = []
        for q in questions[:60]:
            client.post("/v1/chat", json={"message": q})
            t = time.perf_counter()
            r = client.post("/v1/chat", json={"message": q})
            hits.append((time.perf_counter() - t) * 1000)
            assert r.json()["cached"], r.text
        rows["cache hit (p50 / p95)"] = (
            f"{statistics.median(hits):.1f} / {pct(hits, 0.95):.1f} ms over {len(hits)} repeats"
        )
    return rows


def streaming(settings: Settings, embedder: Embedder) -> dict[str, str]:
    s = with_updates(settings, chat={"answer_mode": "generate", "cache_size": 0})
    live = retriever_for(s, embedder)
    gaps = []
    model = TimedModel(gap=0.05)
    app = create_app(s, model=model, retriever=live.current)
    with Server(app) as srv, httpx.Client(base_url=srv.url, timeout=30) as client:
        for i in range(30):
            model.produced.clear()
            q = "How long do I have to return an item?" + " please" * (i % 3)
            with client.stream("POST", "/v1/chat/stream", json={"message": q}) as r:
                lines = r.iter_lines()
                for line in lines:
                    if line == "event: token":
                        gaps.append((time.monotonic() - model.produced[0]) * 1000)
                        break
                for _ in lines:
                    pass
    return {
        "first SSE token after the model produced it (p50 / p95 / max)": (
            f"{statistics.median(gaps):.1f} / {pct(gaps, 0.95):.1f} / {max(gaps):.1f} ms "
            f"over {len(gaps)} streams"
        )
    }


def prompt_size(stackfaq: Path, embedder: Embedder, tmp: Path) -> dict[str, str]:
    settings = build_index(tmp / "stackfaq", [stackfaq / "faqs.jsonl"], embedder)
    retriever = retriever_for(settings, embedder).current()
    model = LlamaCppChatModel(None, n_ctx=4096)
    builder = PromptBuilder(settings.chat, model.count_tokens, settings.shop)
    naive = PromptBuilder(
        settings.chat.model_copy(
            update={"prompt_budget_tokens": 32768, "max_passages": 5, "passage_score_margin": 5.0}
        ),
        model.count_tokens,
    )
    queries = [
        json.loads(x)["query"] for x in (stackfaq / "queries.jsonl").read_text().splitlines()
    ]
    sample = queries[:: max(1, len(queries) // 40)][:40]
    ours_tokens, naive_tokens, ours_ttft, naive_ttft = [], [], [], []

    async def ttft(messages: list[ChatMessage]) -> float:
        t = time.perf_counter()
        stream = model.stream(messages, GenerationOptions(max_tokens=1, temperature=0))
        async for _ in stream:
            break
        await stream.aclose()  # type: ignore[attr-defined]
        return (time.perf_counter() - t) * 1000

    asyncio.run(ttft(builder.build("warm up", retriever.search("warm up").hits, []).messages))
    for i, q in enumerate(sample):
        hits = retriever.search(q, top_k=5).hits
        ours = builder.build(q, hits, [])
        plain = naive.build(q, hits, [])
        ours_tokens.append(ours.variable_tokens)
        naive_tokens.append(plain.variable_tokens)
        # Alternate the order so neither variant always follows the other in the KV cache.
        pair = [(ours, ours_ttft), (plain, naive_ttft)]
        for prompt, into in pair if i % 2 == 0 else reversed(pair):
            into.append(asyncio.run(ttft(prompt.messages)))
    ratio = statistics.mean(ours_ttft) / statistics.mean(naive_ttft)
    return {
        "system prefix (cached by llama.cpp)": f"{builder.prefix_tokens} tokens",
        "prompt tokens beyond the prefix, budgeted (mean / max)": (
            f"{statistics.mean(ours_tokens):.0f} / {max(ours_tokens)} over {len(sample)} "
            "StackFAQ queries"
        ),
        "prompt tokens beyond the prefix, naive top-5 (mean / max)": (
            f"{statistics.mean(naive_tokens):.0f} / {max(naive_tokens)}"
        ),
        "time to first token, budgeted vs naive (mean)": (
            f"{statistics.mean(ours_ttft):.0f} vs {statistics.mean(naive_ttft):.0f} ms "
            f"(ratio {ratio:.2f}), SmolLM2-135M Q4_1"
        ),
    }


def concurrency(
    settings: Settings, embedder: Embedder, questions: list[str], label: str
) -> dict[str, str]:
    live = retriever_for(settings, embedder)
    statuses: Counter[int] = Counter()
    modes: Counter[str] = Counter()
    lock = threading.Lock()
    with Server(create_app(settings, retriever=live.current)) as srv:  # embedded SmolLM2

        def client_run(n: int) -> None:
            with httpx.Client(base_url=srv.url, timeout=120) as client:
                for j in range(20):
                    q = questions[(n * 20 + j) % len(questions)]
                    r = client.post("/v1/chat", json={"message": q})
                    with lock:
                        statuses[r.status_code] += 1
                        if r.status_code == 200:
                            modes[r.json()["mode"]] += 1

        t = time.perf_counter()
        threads = [threading.Thread(target=client_run, args=(n,)) for n in range(10)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        elapsed = time.perf_counter() - t
    five_xx = sum(v for k, v in statuses.items() if k >= 500)
    return {
        f"10 clients x 20 questions, embedded model, {label}": (
            f"{sum(statuses.values())} requests in {elapsed:.0f} s: "
            + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))
            + f"; 5xx: {five_xx}; modes: "
            + ", ".join(f"{k} {v}" for k, v in sorted(modes.items()))
        )
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stackfaq", type=Path, default=ROOT.parent / "shared/eval/stackfaq")
    args = parser.parse_args()
    embedder = make_embedder(Settings().embedding)
    rows: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="faqbot-chat-bench-") as tmp_name:
        tmp = Path(tmp_name)
        settings = build_index(tmp / "faq", [ROOT / "data" / "faq"], embedder)
        questions = gate_questions()
        for part in (
            lambda: overhead(settings, embedder, questions),
            lambda: streaming(settings, embedder),
            lambda: (
                prompt_size(args.stackfaq, embedder, tmp)
                if (args.stackfaq / "queries.jsonl").is_file()
                else {"prompt size": f"skipped: {args.stackfaq} not found"}
            ),
            lambda: concurrency(
                settings, embedder, questions, "default limits (2 running, 8 queued)"
            ),
            lambda: concurrency(
                with_updates(settings, llm={"max_concurrent": 1, "max_queue": 1}),
                embedder,
                questions,
                "tight limits (1 running, 1 queued)",
            ),
        ):
            result = part()
            for k, v in result.items():
                print(f"{k}: {v}", flush=True)
            rows.update(result)
    body = "| measure | result |\n|---|---|\n" + "".join(
        f"| {k} | {v} |\n" for k, v in rows.items()
    )
    write_section(
        "Chat service (bench/chat_service.py)",
        f"{machine_description()}, Python {platform.python_version()}\n\n{body}",
    )


if __name__ == "__main__":
    main()
