"""One client must not degrade everyone: a customer's answer times while another client
floods chat, floods console logins, or abandons streams, as ratios in one run.

Run: .venv/bin/python bench/abuse.py [--seconds 20]
Starts `faqbot serve` (our FAQ, SQLite, the embedded SmolLM2, the console on, shipped
limits) as a separate process pinned to core 0. The customers and the attacker reach it
from different loopback addresses (127.0.0.100-109 and 127.0.0.20-30), as different
clients would; they run on core 1, the attacker in a process of its own at the lowest
priority, so what is measured is the server's share of the harm, not the attacker's
CPU on a 2-core machine. Also samples the server's RSS from start through a 10-client
load. Prints the numbers and rewrites its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.chat_service import pct  # noqa: E402
from bench.report import machine_description, write_section  # noqa: E402
from bench.sizing import CANONICAL, Server, prepare, rss_mb  # noqa: E402

# Ten customers on addresses of their own, taking turns: each asks a question every few
# seconds, as a person reading the answers does (and within the per-address limits).
CUSTOMERS = [f"127.0.0.{100 + i}" for i in range(10)]
PASSWORD = "correct horse battery"


def client_at(address: str, timeout: float = 120) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(transport=transport, timeout=timeout)


async def customer(url: str, seconds: float) -> list[float]:
    """Customers asking FAQ questions one after another, in new conversations."""
    times: list[float] = []
    end = time.perf_counter() + seconds
    clients = [client_at(a) for a in CUSTOMERS]
    i = 0
    while time.perf_counter() < end:
        t = time.perf_counter()
        try:
            r = await clients[i % len(clients)].post(
                f"{url}/v1/chat", json={"message": CANONICAL[i % 4]}
            )
            if r.status_code == 200:
                times.append((time.perf_counter() - t) * 1000)
        except httpx.TransportError:
            pass  # a kept-alive connection the server closed meanwhile: ask again
        i += 1
        await asyncio.sleep(0.2)
    for c in clients:
        await c.aclose()
    return times


async def chat_flood(url: str, stop: asyncio.Event, statuses: Counter[int]) -> None:
    async with client_at("127.0.0.20", timeout=30) as http:

        async def one() -> None:
            while not stop.is_set():
                r = await http.post(f"{url}/v1/chat", json={"message": CANONICAL[0]})
                statuses[r.status_code] += 1

        await asyncio.gather(*(one() for _ in range(16)))


async def login_flood(url: str, stop: asyncio.Event, statuses: Counter[int]) -> None:
    async def one(i: int) -> None:
        # sixteen attackers on eleven addresses, all aiming at one editor
        async with client_at(f"127.0.0.{20 + i % 11}", timeout=30) as http:
            while not stop.is_set():
                r = await http.post(
                    f"{url}/admin/api/login", json={"name": "erika", "password": "wrong guess!"}
                )
                statuses[r.status_code] += 1

    await asyncio.gather(*(one(i) for i in range(16)))


async def abandoned_streams(url: str, stop: asyncio.Event, statuses: Counter[int]) -> None:
    """Streams opened and dropped after the first event, again and again."""
    async with client_at("127.0.0.21", timeout=30) as http:
        while not stop.is_set():
            for _ in range(8):
                async with http.stream(
                    "POST", f"{url}/v1/chat/stream", json={"message": CANONICAL[1]}
                ) as r:
                    statuses[r.status_code] += 1
                    async for _ in r.aiter_lines():
                        break  # the customer closed the tab
            await asyncio.sleep(0.5)


Attack = Callable[[str, asyncio.Event, Counter[int]], Awaitable[None]]


ATTACKS: dict[str, Attack] = {
    "chat flood (16 at once, one address)": chat_flood,
    "login flood (16 at once, 11 addresses)": login_flood,
    "abandoned streams (8 every 0.5 s)": abandoned_streams,
}


def attacker(name: str, url: str, seconds: float, out: Any) -> None:
    """The attack in a process of its own, at the lowest priority, beside the customers."""
    os.nice(19)

    async def run() -> Counter[int]:
        stop = asyncio.Event()
        statuses: Counter[int] = Counter()
        task = asyncio.create_task(ATTACKS[name](url, stop, statuses))
        await asyncio.sleep(seconds)
        stop.set()
        await asyncio.wait_for(task, 60)
        return statuses

    out.put(dict(asyncio.run(run())))


def under(url: str, attack: str | None, seconds: float) -> dict[str, Any]:
    statuses: dict[int, int] = {}
    proc = None
    if attack is not None:
        out: Any = multiprocessing.Queue()
        proc = multiprocessing.Process(target=attacker, args=(attack, url, seconds + 2, out))
        proc.start()
        time.sleep(1.0)  # the attack is under way first
    times = asyncio.run(customer(url, seconds))
    if proc is not None:
        statuses = out.get(timeout=120)
        proc.join(60)
    return {"p50": pct(times, 0.5), "p95": pct(times, 0.95), "n": len(times), "attack": statuses}


async def memory(url: str, pid: int, seconds: float) -> list[float]:
    """RSS every 10 s while 10 clients ask (cache off: every question is retrieved)."""
    samples = []
    stop = asyncio.Event()

    async def one(i: int) -> None:
        async with client_at(f"127.0.1.{i + 1}") as http:
            n = 0
            while not stop.is_set():
                question = f"{CANONICAL[n % 4]} ({i}-{n})"  # new text: new sessions, no cache
                await http.post(f"{url}/v1/chat", json={"message": question})
                n += 1

    tasks = [asyncio.create_task(one(i)) for i in range(10)]
    for _ in range(int(seconds // 10)):
        await asyncio.sleep(10)
        samples.append(rss_mb(pid))
    stop.set()
    await asyncio.gather(*tasks)
    return samples


def fmt(r: dict[str, Any], base: dict[str, Any]) -> str:
    codes = ", ".join(f"{k}: {v}" for k, v in sorted(r["attack"].items())) or "-"
    return (
        f"| {r['p50']:.0f} | {r['p95']:.0f} | {r['p95'] / base['p95']:.2f} | {r['n']} | {codes} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--memory-seconds", type=float, default=120.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = prepare(Path(tmp))
        from service.admin.accounts import AdminAccounts
        from service.db.engine import make_engine

        AdminAccounts(make_engine(env["FAQBOT_DB__URL"])).create_user("erika", "editor", PASSWORD)
        console = {"FAQBOT_ADMIN__ENABLED": "true", "FAQBOT_CHAT__CACHE_SIZE": "0"}
        rows: list[tuple[str, dict[str, Any]]] = []
        rss: list[tuple[str, float]] = []
        os.sched_setaffinity(0, {1})  # the customers (and the attacker) on core 1
        for limits in ("true", "false"):
            server = Server(env, {**console, "FAQBOT_LIMITS__ENABLED": limits}, "0")
            pid, label = server.proc.pid, "limits on" if limits == "true" else "limits off"
            try:
                rss.append((f"{label}: ready", rss_mb(pid)))
                under(server.url, None, 3)  # warm up
                base = under(server.url, None, args.seconds)
                rows.append((f"{label}: unloaded", base))
                print(label, "unloaded", base, flush=True)
                for name in ATTACKS:
                    r = under(server.url, name, args.seconds)
                    rows.append((f"{label}: {name}", {**r, "base": base}))
                    print(label, name, r, flush=True)
                rss.append((f"{label}: after the attacks", rss_mb(pid)))
                if limits == "true":
                    load = asyncio.run(memory(server.url, pid, args.memory_seconds))
                    rss += [
                        (f"{label}: 10 clients, {10 * (i + 1)} s", x) for i, x in enumerate(load)
                    ]
                print("rss", rss, flush=True)
            finally:
                server.stop()
    report(rows, rss, args)


def report(rows: list[tuple[str, dict[str, Any]]], rss: list[tuple[str, float]], args: Any) -> None:
    lines = [
        "| customer's answers while | p50 ms | p95 ms | p95 / unloaded | answers | the "
        "attacker's responses |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in rows:
        lines.append(f"| {name} " + fmt(r, r.get("base", r)))
    body = (
        f"Machine: {machine_description()}. `bench/abuse.py --seconds {args.seconds:.0f}`: "
        "`faqbot serve` on SQLite with the embedded model, the answer cache off, the "
        "console on; ten customers (addresses of their own) take turns asking an FAQ "
        "question, one every 0.2 s after each answer, while another client attacks from "
        "other addresses. Shipped "
        "limits, then the same with `FAQBOT_LIMITS__ENABLED=false`.\n\n"
        + "\n".join(lines)
        + "\n\nServer RSS (MiB): "
        + "; ".join(f"{name} {x:.0f}" for name, x in rss)
        + "\n"
    )
    write_section("Abuse: floods, login floods, abandoned streams", body)


if __name__ == "__main__":
    main()
