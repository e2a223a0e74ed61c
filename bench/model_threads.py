"""How many threads the embedded model should compute with (FAQBOT_LLM__THREADS).

The embedded SmolLM2 is run with 1, 2, ... threads (up to the cores this process may
use), on an idle machine and on a busy one: "busy" is the service's own work, a second
process embedding customer questions with faqbot's embedder without pause, as it does
for every chat turn. Configurations alternate within each round, so a noisy VM slows
them alike; the report compares them within this one run.

Per generation: prompt reading (prefill, tokens/s up to the first token; each prompt
starts with a fresh line so no prefix is reused) and writing (tokens/s after the first).

Run: .venv/bin/python bench/model_threads.py [--rounds 6] [--tokens 64]
Prints the numbers and rewrites its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import machine_description, write_section  # noqa: E402

PASSAGE = (
    "Returns: you can return any item within 30 days of delivery for a full refund. "
    "Items must be unused and in their original packaging. Start a return from your "
    "account page; we email a prepaid label. Refunds reach your card 5 to 10 working "
    "days after the parcel arrives at our warehouse. Sale items can be returned too, "
    "but gift cards and personalised items cannot. "
)
QUESTION = "Explain in detail how returns and refunds work, step by step."


def busy_loop() -> None:
    """The load: faqbot's own embedder encoding questions, one after another."""
    from service.config import Settings
    from service.retrieval.components import build_embedder

    embedder = build_embedder(Settings())
    n = 0
    while True:
        embedder.embed([f"where is my parcel number {n}, it has not arrived"])
        n += 1


def _messages(nonce: int) -> list[object]:
    from service.llm.base import ChatMessage

    system = f"Request {nonce}. You answer customers of a shop from this passage.\n"
    return [
        ChatMessage("system", system + PASSAGE * 3),
        ChatMessage("user", QUESTION),
    ]


async def _one(model: object, nonce: int, tokens: int) -> tuple[float, float]:
    from service.llm.base import GenerationOptions

    messages = _messages(nonce)
    prompt_tokens = model.count_tokens(  # type: ignore[attr-defined]
        "".join(m.content for m in messages)  # type: ignore[attr-defined]
    )
    options = GenerationOptions(max_tokens=tokens, temperature=0.0, stop=())
    start = time.perf_counter()
    first = last = 0.0
    count = 0
    async for _ in model.stream(messages, options):  # type: ignore[attr-defined]
        last = time.perf_counter()
        if count == 0:
            first = last
        count += 1
    prefill = prompt_tokens / (first - start)
    writing = (count - 1) / (last - first) if count > 1 and last > first else 0.0
    return prefill, writing


def _load_process() -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--busy"],
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    time.sleep(8.0)  # the embedder loads before the load counts
    return proc


def measure(rounds: int, tokens: int) -> dict[tuple[str, int], list[tuple[float, float]]]:
    from service.llm.llamacpp import LlamaCppChatModel

    cores = len(os.sched_getaffinity(0))
    counts = list(range(1, cores + 1))
    models = {n: LlamaCppChatModel(None, 2048, n) for n in counts}
    for model in models.values():
        asyncio.run(model.check())
    results: dict[tuple[str, int], list[tuple[float, float]]] = {}
    nonce = 0
    for load in ("idle", "busy"):
        proc = _load_process() if load == "busy" else None
        try:
            for r in range(rounds):
                for n in counts if r % 2 == 0 else reversed(counts):
                    nonce += 1
                    sample = asyncio.run(_one(models[n], nonce, tokens))
                    results.setdefault((load, n), []).append(sample)
                    print(
                        f"{load} threads={n}: prefill {sample[0]:.0f} tok/s, "
                        f"writing {sample[1]:.1f} tok/s",
                        flush=True,
                    )
        finally:
            if proc is not None:
                proc.kill()
                proc.wait()
    return results


def report(results: dict[tuple[str, int], list[tuple[float, float]]], rounds: int) -> str:
    rows = [
        "| machine | threads | prompt reading, tokens/s (median, min-max) "
        "| writing, tokens/s (median, min-max) |",
        "|---|---|---|---|",
    ]
    medians: dict[tuple[str, int], tuple[float, float]] = {}
    for (load, n), samples in results.items():
        pre = [s[0] for s in samples]
        wri = [s[1] for s in samples]
        medians[(load, n)] = (statistics.median(pre), statistics.median(wri))
        rows.append(
            f"| {load} | {n} | {statistics.median(pre):.0f} ({min(pre):.0f}-{max(pre):.0f}) "
            f"| {statistics.median(wri):.1f} ({min(wri):.1f}-{max(wri):.1f}) |"
        )
    ratios = []
    counts = sorted({n for _, n in results})
    best = max(counts)
    for load in ("idle", "busy"):
        if (load, 1) in medians and (load, best) in medians and best > 1:
            p = medians[(load, best)][0] / medians[(load, 1)][0]
            w = medians[(load, best)][1] / max(medians[(load, 1)][1], 1e-9)
            ratios.append(
                f"- {load}: {best} threads against 1: prompt reading x{p:.2f}, writing x{w:.2f}"
            )
    return (
        f"Run on {machine_description()}; `bench/model_threads.py`, {rounds} rounds a "
        "configuration, the embedded SmolLM2-135M (Q4_1), prompts of about 300 tokens with "
        "no reused prefix, answers of up to 64 tokens. Busy: a second process runs "
        "faqbot's embedder on questions without pause (the service's own work per turn).\n\n"
        + "\n".join(rows)
        + "\n\n"
        + "\n".join(ratios)
        + "\n\nThe default, `FAQBOT_LLM__THREADS` unset, is the cores the process may use "
        "minus one (at least 1): it gives up some speed on an idle machine to keep the "
        "model from collapsing when the service is busy, which is when speed matters."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--busy", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.busy:
        busy_loop()
        return
    results = measure(args.rounds, args.tokens)
    body = report(results, args.rounds)
    print(body)
    write_section("Model threads (FAQBOT_LLM__THREADS)", body)


if __name__ == "__main__":
    main()
