"""Throughput by answer path and concurrency, for docs/sizing.md.

Run: .venv/bin/python bench/sizing.py [--cores 2,1] [--requests 40]
Starts `faqbot serve` (the embedded SmolLM2 model, our FAQ, SQLite) as a separate
process pinned with taskset, drives it with 1, 5, 10 and 20 concurrent clients per path,
and reads the server's RSS from /proc. Paths:
  canonical  an FAQ question answered with the entry's text (answer cache off)
  abstained  an off-topic question, declined without a model call (cache off)
  cached     the same question again (cache on)
  generated  the model writes the answer (answer_mode generate, cache off)
Prints the numbers and rewrites its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.chat_service import pct  # noqa: E402
from bench.report import machine_description, write_section  # noqa: E402
from tests.live_server import free_port, wait_until_ready  # noqa: E402

LEVELS = (1, 5, 10, 20)
CANONICAL = [
    "How long do I have to return an item?",
    "Which countries do you ship to?",
    "Which payment methods do you accept?",
    "How much does shipping cost?",
]
OFF_TOPIC = [
    "What is the capital of Peru?",
    "Write me a poem about volcanoes",
    "Who won the football match yesterday?",
    "How do I bake sourdough bread?",
]
PATHS: dict[str, tuple[dict[str, str], list[str]]] = {
    "canonical": ({"FAQBOT_CHAT__CACHE_SIZE": "0"}, CANONICAL),
    "abstained": ({"FAQBOT_CHAT__CACHE_SIZE": "0"}, OFF_TOPIC),
    "cached": ({}, CANONICAL[:1]),
    "generated": (
        {"FAQBOT_CHAT__CACHE_SIZE": "0", "FAQBOT_CHAT__ANSWER_MODE": "generate"},
        CANONICAL,
    ),
}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Server:
    def __init__(self, base_env: dict[str, str], extra: dict[str, str], cores: str) -> None:
        self.port = free_port()
        cmd = ["taskset", "-c", cores, sys.executable, "-m", "cli.main", "serve"]
        self.proc = subprocess.Popen(
            [*cmd, "--port", str(self.port)],
            env={**base_env, **extra},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        wait_until_ready(self.url, self.proc, 180)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


async def load(url: str, questions: Sequence[str], clients: int, total: int) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: list[int] = []
    modes: list[str] = []
    counter = iter(range(total))

    async def client(http: httpx.AsyncClient) -> None:
        for i in counter:
            t = time.perf_counter()
            r = await http.post(f"{url}/v1/chat", json={"message": questions[i % len(questions)]})
            latencies.append((time.perf_counter() - t) * 1000)
            statuses.append(r.status_code)
            if r.status_code == 200:
                modes.append(str(r.json()["mode"]))

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=120) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    seconds = time.perf_counter() - started
    ok = [lat for lat, s in zip(latencies, statuses, strict=True) if s == 200]
    return {
        "rps": len(ok) / seconds,
        "p50": pct(ok, 0.5) if ok else float("nan"),
        "p95": pct(ok, 0.95) if ok else float("nan"),
        "busy": statuses.count(429) / len(statuses),
        "errors": sum(s >= 500 for s in statuses),
        # past its queue deadline a turn falls back to the FAQ text instead of waiting
        "model_share": modes.count("generated") / len(modes) if modes else 0.0,
    }


def prepare(tmp: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "FAQBOT_INDEX__PATH": str(tmp / "index"),
        "FAQBOT_DB__URL": f"sqlite:///{tmp / 'faqbot.db'}",
        "FAQBOT_ORDERS__ENABLED": "false",
        "FAQBOT_LOGGING__LEVEL": "WARNING",
    }
    faqbot = [sys.executable, "-m", "cli.main"]
    subprocess.run([*faqbot, "db", "upgrade"], env=env, cwd=ROOT, check=True)
    subprocess.run(
        [*faqbot, "ingest", str(ROOT / "data" / "faq")],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return env


def run(cores: str, env: dict[str, str], requests: int) -> list[dict[str, Any]]:
    rows = []
    for path, (extra, questions) in PATHS.items():
        server = Server(env, extra, cores)
        try:
            asyncio.run(load(server.url, questions, 1, 4))  # warm up
            for clients in LEVELS:
                total = max(requests, 2 * clients) if path != "generated" else 2 * clients + 4
                r = asyncio.run(load(server.url, questions, clients, total))
                r.update(path=path, clients=clients, cores=cores, rss=rss_mb(server.proc.pid))
                print(r, flush=True)
                rows.append(r)
        finally:
            server.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", default="0-1,0", help="taskset core lists, comma-separated")
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--paths", default=",".join(PATHS), help="comma-separated")
    args = parser.parse_args()
    for name in set(PATHS) - set(args.paths.split(",")):
        del PATHS[name]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="faqbot-sizing-") as tmp:
        env = prepare(Path(tmp))
        for cores in args.cores.split(","):
            rows += run(cores, env, args.requests)
    body = (
        "| cores | path | clients | answers/s | p50 / p95 ms | 429 share | 5xx "
        "| written by the model | server RSS |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
    )
    for r in rows:
        body += (
            f"| {r['cores']} | {r['path']} | {r['clients']} | {r['rps']:.1f} "
            f"| {r['p50']:.0f} / {r['p95']:.0f} | {r['busy']:.2f} | {r['errors']} "
            f"| {r.get('model_share', 0):.2f} | {r['rss']:.0f} MB |\n"
        )
    write_section(
        "Sizing: throughput by path and concurrency (bench/sizing.py)",
        f"{machine_description()}, Python {platform.python_version()}. `faqbot serve` with "
        f"the embedded SmolLM2-135M (defaults: 2 generations at once), our FAQ, SQLite; "
        f"pinned with taskset; at least {args.requests} requests per row for the fast "
        f"paths, 2 x clients + 4 for generated.\n\n{body}",
    )


if __name__ == "__main__":
    main()
