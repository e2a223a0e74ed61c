"""The dialogue policy's cost: per-turn latency of whole conversations through the chat
service (no model: the embedded default answers from the FAQ's text), for this tree and
for an earlier commit, in one run, turns alternating between the two so that a busy VM
slows both alike. First turns and later turns are reported apart: only later turns may
search more than once (the follow-up readings).

Run: .venv/bin/python bench/dialogue.py [--base main~1] [--rounds 3]
Prints the numbers and rewrites its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import machine_description, write_section  # noqa: E402

CONVERSATIONS = ROOT / "data" / "eval" / "conversations.jsonl"


def worker(rounds: int) -> None:
    """Runs inside the tree being measured (its own code on sys.path): one JSON line of
    per-turn milliseconds, split into first and later turns."""
    import asyncio
    from collections.abc import AsyncIterator

    from ingest.evaluate import temporary_index
    from service.chat.history import HistoryWriter
    from service.chat.memory_store import MemoryChatStore
    from service.chat.service import ChatService
    from service.config import Settings
    from service.llm.base import ModelError
    from service.retrieval.components import build_detector, build_embedder

    class NoModel:
        name, max_concurrency = "none", 1

        async def check(self) -> None: ...

        async def stream(self, messages: object, options: object) -> AsyncIterator[str]:
            raise ModelError("no model")
            yield ""

        def count_tokens(self, text: str) -> int:
            return len(text.split())

        async def close(self) -> None: ...

    settings = Settings(chat={"cache_size": 0})
    conversations = [
        [t["message"] for t in json.loads(line)["turns"]]
        for line in CONVERSATIONS.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    first: list[float] = []
    later: list[float] = []

    async def run(retriever: object) -> None:
        store = MemoryChatStore()
        history = HistoryWriter(store)
        service = ChatService(
            settings,
            lambda: retriever,
            NoModel(),
            store,  # type: ignore[arg-type]
            history=history,
            detector=build_detector(settings),
        )
        for _ in range(rounds):
            for turns in conversations:
                session = None
                for i, message in enumerate(turns):
                    t0 = time.perf_counter()
                    record = await service.answer(message, session)
                    (first if i == 0 else later).append((time.perf_counter() - t0) * 1000)
                    session = record["session_id"]
                    await history.settled(record["message_id"], 5.0)

    data = ROOT / "data" / "faq"
    with temporary_index(data, settings, build_embedder(settings), log=lambda _: None) as r:
        r.search("warm up")
        asyncio.run(run(r))
    print(json.dumps({"first": first, "later": later}))


def _measure(tree: Path, rounds: int) -> dict[str, list[float]]:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "dialogue.py"), "--worker", str(rounds)],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="HEAD", help="the commit to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    with tempfile.TemporaryDirectory(prefix="faqbot-bench-") as tmp:
        base = Path(tmp) / "base"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(base), args.base],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        try:
            # the base tree measures with this tree's bench script and conversations
            (base / "bench").mkdir(exist_ok=True)
            (base / "bench" / "dialogue.py").write_text(Path(__file__).read_text())
            target = base / CONVERSATIONS.relative_to(ROOT)
            target.write_text(CONVERSATIONS.read_text(encoding="utf-8"), encoding="utf-8")
            runs: dict[str, dict[str, list[float]]] = {"base": {}, "this": {}}
            for _ in range(2):  # alternate, so that load on the VM falls on both
                for name, tree in (("base", base), ("this", ROOT)):
                    got = _measure(tree, args.rounds)
                    for k, v in got.items():
                        runs[name].setdefault(k, []).extend(v)
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(base)],
                cwd=ROOT,
                check=False,
                capture_output=True,
            )
    rows = []
    for kind in ("first", "later"):
        b, t = runs["base"][kind], runs["this"][kind]
        rows.append(
            f"| {kind} turns | {len(t)} | {statistics.median(b):.1f} / {_p(b, 95):.1f} | "
            f"{statistics.median(t):.1f} / {_p(t, 95):.1f} | "
            f"{statistics.median(t) / statistics.median(b):.2f} / {_p(t, 95) / _p(b, 95):.2f} |"
        )
    text = "\n".join(
        [
            f"Measured on {machine_description()}: the "
            f"{CONVERSATIONS.relative_to(ROOT)} conversations through the chat service "
            f"(no model, cache off), {args.rounds} rounds, twice each, base `{args.base}`.",
            "",
            "| turns | n | base p50 / p95 ms | this p50 / p95 ms | ratio p50 / p95 |",
            "|---|---|---|---|---|",
            *rows,
        ]
    )
    print(text)
    write_section("Dialogue policy: per-turn latency (bench/dialogue.py)", text)


if __name__ == "__main__":
    main()
