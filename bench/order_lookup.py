"""Order lookup latency on PostgreSQL with 100,000 seeded orders (indexes from the
migrations). Run: .venv/bin/python bench/order_lookup.py [--orders N] [--url URL]
Prints the numbers and rewrites its section of docs/benchmarks.md."""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import machine_description, table, write_section  # noqa: E402
from service.db.engine import make_engine  # noqa: E402
from service.db.migrations import upgrade  # noqa: E402
from service.orders.attempts import SqlAttemptCounter  # noqa: E402
from service.orders.repository import OrderRepository  # noqa: E402
from service.orders.seed import FIRST_ORDER_NUMBER, seed_demo  # noqa: E402


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--lookups", type=int, default=2000)
    args = parser.parse_args()
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = f"{args.url}?options=-csearch_path%3D{schema}"
    try:
        upgrade(url)
        engine = make_engine(url)
        t = time.perf_counter()
        done = [0]

        def progress(n: int) -> None:
            done[0] += n
            if done[0] % 20000 == 0 or done[0] == args.orders:
                print(f"seeded {done[0]}/{args.orders} orders", flush=True)

        seed_demo(engine, args.orders, progress=progress)
        seed_s = time.perf_counter() - t
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
            emails = dict(
                conn.execute(
                    sa.text(
                        "select o.order_number, c.email from orders o "
                        "join customers c on c.id = o.customer_id"
                    )
                ).all()
            )
        repo = OrderRepository(engine)
        rng = random.Random(3)
        numbers = [
            f"NW-{FIRST_ORDER_NUMBER + rng.randrange(args.orders)}" for _ in range(args.lookups)
        ]
        counter = SqlAttemptCounter(engine, 3600)
        for n in numbers[:100]:
            repo.verified_facts(n, emails[n], None)
        count_ms, both_ms = [], []
        for i, n in enumerate(numbers):
            now = datetime.now(UTC)
            t0 = time.perf_counter()
            # The three attempt counters a verification counts (address, session, order).
            for scope, key in (
                ("address", f"10.0.{i % 250}.1"),
                ("session", f"s{i}"),
                ("order", n),
            ):
                counter.hit(scope, key, window_s=600, now=now)  # type: ignore[arg-type]
            t1 = time.perf_counter()
            assert repo.verified_facts(n, emails[n], None) is not None
            t2 = time.perf_counter()
            count_ms.append((t1 - t0) * 1000)
            both_ms.append((t2 - t1) * 1000)
        engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    rows = {
        "orders seeded": f"{args.orders} (every status; seeding took {seed_s:.0f} s)",
        "count the attempt: address, session and order counters (p50 / p95)": (
            f"{statistics.median(count_ms):.2f} / {pct(count_ms, 0.95):.2f} ms"
        ),
        "full lookup: verify + order, items, shipment, events (p50 / p95 / max)": (
            f"{statistics.median(both_ms):.2f} / {pct(both_ms, 0.95):.2f} / {max(both_ms):.2f} ms "
            f"over {len(both_ms)} random orders"
        ),
    }
    body = table(rows)
    write_section(
        "Order lookup on PostgreSQL (bench/order_lookup.py)",
        f"{machine_description()}, Python {platform.python_version()}, PostgreSQL 15 on the "
        f"same VM\n\n{body}",
    )


if __name__ == "__main__":
    main()
