"""Fault benchmark: FAQ answer times while a database is write-locked or hung, and what
an attacker gets from guessing postal codes of the demo orders.

Run: .venv/bin/python bench/faults.py
Prints the numbers and rewrites its section of docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import machine_description, table, write_section  # noqa: E402
from bench.shop import ingest_shop_faq  # noqa: E402
from service.app import create_app  # noqa: E402
from service.config import OrderSettings, Settings  # noqa: E402
from service.db.engine import make_engine  # noqa: E402
from service.db.migrations import upgrade  # noqa: E402
from service.orders.assistant import OrderAssistant  # noqa: E402
from service.orders.repository import OrderRepository  # noqa: E402
from service.orders.seed import PLACES, seed_demo  # noqa: E402
from tests.fakes.blackhole import Blackhole  # noqa: E402
from tests.fakes.instant_model import InstantChatModel  # noqa: E402
from tests.live_server import LiveServer  # noqa: E402

QUESTIONS = [
    "How long do I have to return an item?",
    "Do you ship to Norway?",
    "Can I pay with PayPal?",
    "How do I exchange a jacket for another size?",
    "Is there a warranty on boots?",
]


def pct(xs: Sequence[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def faq_times(base: str, n: int = 40) -> list[float]:
    times = []
    with httpx.Client(timeout=60) as client:
        for i in range(n):
            # A new wording each time, so the answer cache does not answer.
            message = f"{QUESTIONS[i % len(QUESTIONS)]} ({i})"
            t0 = time.perf_counter()
            r = client.post(f"{base}/v1/chat", json={"message": message})
            times.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, r.text
    return times


def fmt(times: Sequence[float]) -> str:
    return f"{statistics.median(times):.1f} / {pct(times, 0.95):.1f} ms"


def serve(settings: Settings) -> LiveServer:
    server = LiveServer(create_app(settings, model=InstantChatModel()), settings)
    server.start()
    return server


def with_write_lock(settings: Settings) -> list[float]:
    path = settings.db.url.removeprefix("sqlite:///")
    locker = sqlite3.connect(path, timeout=1, check_same_thread=False)
    locker.execute("BEGIN IMMEDIATE")
    server = serve(settings)
    try:
        return faq_times(server.url)
    finally:
        locker.rollback()
        locker.close()
        server.stop()


def with_hung_orders(settings: Settings) -> tuple[list[float], int]:
    with Blackhole() as hung:
        hung_settings = settings.model_copy(
            update={
                "orders": settings.orders.model_copy(
                    update={"db_url": f"postgresql+psycopg://x@127.0.0.1:{hung.port}/x"}
                )
            }
        )
        server = serve(hung_settings)
        stop = threading.Event()

        def order_questions() -> None:
            with httpx.Client(timeout=60) as client:
                while not stop.is_set():
                    client.post(f"{server.url}/v1/chat", json={"message": "where is NW-100001?"})

        pressure = [threading.Thread(target=order_questions) for _ in range(8)]
        for t in pressure:
            t.start()
        try:
            times = faq_times(server.url)
        finally:
            stop.set()
            for t in pressure:
                t.join()
            server.stop()
        return times, hung.accepted


def guessing(url: str, tries_per_order: int = 10) -> tuple[int, int, int]:
    """An attacker who knows the order numbers (sequential) and the shop's cities guesses
    postal codes from those cities' ranges, each guess in a new session from a new
    address. Returns (orders disclosed, orders locked, guesses made) over 20 orders."""
    engine = make_engine(url)
    assistant = OrderAssistant(OrderRepository(engine), OrderSettings())
    rng = random.Random(11)

    async def attack() -> tuple[int, int, int]:
        disclosed = locked = guesses = 0
        for n in range(20):
            number = f"NW-{100000 + n}"
            for t in range(tries_per_order):
                _, _, make_code = rng.choice(PLACES)
                guesses += 1
                reply = await assistant.lookup(
                    f"s{n}-{t}", number, None, make_code(rng), f"198.51.{n}.{t}"
                )
                if reply.outcome == "facts":
                    disclosed += 1
                    break
                if reply.outcome == "order_locked":
                    locked += 1
                    break
        return disclosed, locked, guesses

    try:
        return asyncio.run(attack())
    finally:
        engine.dispose()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/faqbot.db"
        upgrade(url)
        engine = make_engine(url)
        seed_demo(engine, 240)
        with engine.connect() as conn:
            codes = conn.execute(sa.text("select count(distinct postal_code) from customers"))
            distinct = codes.scalar_one()
        engine.dispose()
        settings = Settings(index={"path": f"{tmp}/index"}, db={"url": url})
        ingest_shop_faq(settings)

        server = serve(settings)
        try:
            faq_times(server.url, 5)  # warm up
            normal = faq_times(server.url)
        finally:
            server.stop()
        locked = with_write_lock(settings)
        hung, connections = with_hung_orders(settings)
        disclosed, order_locks, guesses = guessing(url)

    rows = {
        "FAQ answer, healthy (p50 / p95)": fmt(normal),
        "FAQ answer, chat database write-locked throughout": (
            f"{fmt(locked)} (p50 {statistics.median(locked) / statistics.median(normal):.2f}x)"
        ),
        "FAQ answer, orders database hung, 8 clients asking about orders": (
            f"{fmt(hung)} (p50 {statistics.median(hung) / statistics.median(normal):.2f}x); "
            f"{connections} connections reached the hung database in all"
        ),
        "postal-code guessing, 20 demo orders, up to 10 guesses each": (
            f"{disclosed} disclosed, {order_locks} locked, {guesses} guesses "
            f"({distinct} distinct postal codes among 120 demo customers)"
        ),
    }
    body = table(rows)
    write_section(
        "Faults and attacks (bench/faults.py)",
        f"{machine_description()}, Python {platform.python_version()}; an instant model, "
        f"SQLite chat and order databases, 40 FAQ questions per row\n\n{body}",
    )


if __name__ == "__main__":
    main()
