"""Order lookup latency per order source with 100,000 orders each: faqbot's tables and
Saleor's on PostgreSQL, WooCommerce's HPOS tables on MariaDB, and Shopify's Admin API
(the fake, over loopback HTTP: it measures our client, not Shopify's servers). Each
lookup is the one a verified customer gets: the source's queries, then the ownership
check. Run: .venv/bin/python bench/order_sources.py [--orders N] [--lookups N]
Prints the numbers and rewrites its section of docs/benchmarks.md."""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import machine_description, table, write_section  # noqa: E402
from service.db.engine import make_engine  # noqa: E402
from service.db.migrations import upgrade  # noqa: E402
from service.orders.faqbot_source import FaqbotSource  # noqa: E402
from service.orders.mapping import load_mapping, preset_path  # noqa: E402
from service.orders.repository import OrderRepository  # noqa: E402
from service.orders.shopify_source import ShopifySource  # noqa: E402
from service.orders.source import OrderSource  # noqa: E402
from service.orders.sql_source import SqlOrderSource  # noqa: E402
from tests.fakes.shopify_server import TOKEN, FakeShopify, FakeShopifyBehaviour  # noqa: E402
from tests.order_platforms import (  # noqa: E402
    SALEOR_DDL,
    SAMPLES,
    WOOCOMMERCE_DDL,
    Sample,
    faqbot_rows,
    saleor_rows,
    shopify_order,
    woocommerce_rows,
)

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MARIADB = "mysql+pymysql://root@127.0.0.1:3306/test"
FIRST = 100_000  # the first order number: six digits, as the presets' numbering allows
BATCH = 5_000


def samples(n: int) -> list[Sample]:
    """n orders shaped like the contract's three (shipped with tracking, processing,
    cancelled), each with a customer of its own."""
    out = []
    for i in range(n):
        like = SAMPLES[i % len(SAMPLES)]
        out.append(
            Sample(
                FIRST + i,
                f"c{i}@example.com",
                f"{10000 + i % 89999}",
                like.status,
                like.items,
                like.currency,
                like.carrier,
                f"00340434{i:06d}" if like.tracking else None,
                like.events,
            )
        )
    return out


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


@contextmanager
def pg_schema() -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def mariadb_database() -> Iterator[str]:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(MARIADB)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE DATABASE `{name}`"))
    try:
        yield MARIADB.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE `{name}`"))
        admin.dispose()


def seed_in_batches(
    url: str,
    ddl: list[str],
    rows: Callable[[sa.Connection, tuple[Sample, ...], int], None],
    orders: list[Sample],
) -> None:
    """The platform's tables, then its rows BATCH orders per transaction."""
    if ddl:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            for statement in ddl:
                conn.execute(sa.text(statement))
    else:  # faqbot's own tables come from its migrations
        upgrade(url)
        engine = sa.create_engine(url)
    for i in range(0, len(orders), BATCH):
        with engine.begin() as conn:
            rows(conn, tuple(orders[i : i + BATCH]), i + 1)
        if (i + BATCH) % 20_000 == 0:
            print(f"  seeded {i + BATCH}/{len(orders)}", flush=True)
    # The planner's statistics, as a shop's database has them.
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("ANALYZE"))
        else:
            tables = conn.execute(sa.text("SHOW TABLES")).scalars().all()
            conn.execute(sa.text("ANALYZE TABLE " + ", ".join(f"`{t}`" for t in tables)))
    engine.dispose()


def measure(source: OrderSource, numbers: list[str], emails: dict[str, str]) -> list[float]:
    repo = OrderRepository(sa.create_engine("sqlite://"), source=source)
    for n in numbers[:50]:  # warm the connection pool and the caches
        repo.verified_facts(n, emails[n], None)
    took = []
    for n in numbers:
        t0 = time.perf_counter()
        assert repo.verified_facts(n, emails[n], None) is not None, n
        took.append((time.perf_counter() - t0) * 1000)
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=1000)
    args = parser.parse_args()
    orders = samples(args.orders)
    rng = random.Random(5)
    picked = [orders[rng.randrange(len(orders))] for _ in range(args.lookups)]
    results: dict[str, str] = {}

    def report(name: str, seconds: float, took: list[float]) -> None:
        results[name] = (
            f"{statistics.median(took):.2f} / {pct(took, 0.95):.2f} / {max(took):.2f} ms "
            f"(seeded in {seconds:.0f} s)"
        )
        print(f"{name}: {results[name]}", flush=True)

    with pg_schema() as url:
        t = time.perf_counter()
        seed_in_batches(url, [], faqbot_rows, orders)
        engine = make_engine(url)
        emails = {f"NW-{s.n}": s.email for s in picked}
        report(
            "faqbot tables, PostgreSQL",
            time.perf_counter() - t,
            measure(FaqbotSource(engine), [f"NW-{s.n}" for s in picked], emails),
        )
        engine.dispose()
    emails = {str(s.n): s.email for s in picked}
    with mariadb_database() as url:
        t = time.perf_counter()
        seed_in_batches(url, WOOCOMMERCE_DDL, woocommerce_rows, orders)
        engine = make_engine(url)
        source = SqlOrderSource(engine, load_mapping(preset_path("woocommerce")))
        report(
            "WooCommerce HPOS preset, MariaDB",
            time.perf_counter() - t,
            measure(source, [str(s.n) for s in picked], emails),
        )
        engine.dispose()
    with pg_schema() as url:
        t = time.perf_counter()
        seed_in_batches(url, SALEOR_DDL, saleor_rows, orders)
        engine = make_engine(url)
        source = SqlOrderSource(engine, load_mapping(preset_path("saleor")))
        report(
            "Saleor preset, PostgreSQL",
            time.perf_counter() - t,
            measure(source, [str(s.n) for s in picked], emails),
        )
        engine.dispose()
    t = time.perf_counter()
    behaviour = FakeShopifyBehaviour(orders=[shopify_order(s) for s in orders])
    with FakeShopify(behaviour) as fake:
        source = ShopifySource(fake.url, TOKEN, "2025-10", timeout_s=5.0)
        report(
            "Shopify Admin API (the fake, loopback HTTP)",
            time.perf_counter() - t,
            measure(source, [f"#{s.n}" for s in picked], {f"#{s.n}": s.email for s in picked}),
        )
    body = table({f"{k} (p50 / p95 / max)": v for k, v in results.items()})
    write_section(
        "Order lookup per order source (bench/order_sources.py)",
        f"{machine_description()}, Python {platform.python_version()}; PostgreSQL 15 and "
        f"MariaDB on the same VM; {args.orders} orders per source, {args.lookups} lookups of "
        "random orders, each the source's queries plus the ownership check.\n\n" + body,
    )


if __name__ == "__main__":
    main()
