"""One contract for every OrderSource: faqbot's demo tables (SQLite, PostgreSQL,
MariaDB), WooCommerce's HPOS tables on the real MariaDB, Saleor's tables on the real
PostgreSQL and Shopify's Admin API (the protocol-faithful fake, over HTTP). The same
shop's orders read alike from all of them, ownership is proved alike (verify.py), and a
source that cannot answer says so as a SourceError the orders' guard counts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from service.orders.repository import OrderRepository
from service.orders.shopify_source import ShopifySource
from service.orders.source import SourceError
from tests.fakes.shopify_server import TOKEN, FakeShopify, FakeShopifyBehaviour
from tests.order_platforms import (
    MISSING,
    SAMPLES,
    Platform,
    faqbot_platform,
    saleor_platform,
    shopify_platform,
    woocommerce_platform,
)

pytestmark = pytest.mark.integration
PLATFORMS = [
    "faqbot-sqlite",
    "faqbot-postgres",
    "faqbot-mariadb",
    "woocommerce",
    "saleor",
    "shopify",
]


@pytest.fixture(params=PLATFORMS)
def platform(request: pytest.FixtureRequest) -> Iterator[Platform]:
    kind: str = request.param
    if kind.startswith("faqbot-"):
        url = request.getfixturevalue(f"{kind.removeprefix('faqbot-')}_url")
        yield faqbot_platform(url)
    elif kind == "woocommerce":
        yield woocommerce_platform(request.getfixturevalue("mariadb_url"))
    elif kind == "saleor":
        yield saleor_platform(request.getfixturevalue("postgres_url"))
    else:
        with FakeShopify() as fake:

            def make(orders: list[dict[str, Any]]) -> ShopifySource:
                fake.behaviour.orders = orders
                return ShopifySource(fake.url, TOKEN, "2025-10", timeout_s=2.0)

            yield shopify_platform(make)


def test_an_order_reads_alike_from_every_source(platform: Platform) -> None:
    for sample in SAMPLES:
        record = platform.source.find(platform.number(sample.n))
        assert record is not None, (platform.name, sample.n)
        facts = record.facts
        assert facts.order_number == platform.number(sample.n)
        assert facts.status == sample.status, platform.name
        assert [(i.name, i.quantity, i.unit_price_cents) for i in facts.items] == list(sample.items)
        assert (facts.total_cents, facts.currency) == (sample.total_cents, sample.currency)
        assert facts.placed_at.utcoffset() is not None  # timezone-aware, UTC
        assert facts.tracking_number == sample.tracking
        if platform.has_carrier:
            assert facts.carrier == sample.carrier
        if platform.has_events:
            assert [(e.status, e.location) for e in facts.events] == [
                (s, where) for s, _, where in sample.events
            ]
        assert (record.email, record.postal_code) == (sample.email, sample.postal)


def test_an_unknown_number_is_no_order(platform: Platform) -> None:
    assert platform.source.find(platform.number(MISSING)) is None


def test_ownership_is_proved_alike_on_every_source(platform: Platform) -> None:
    repo = OrderRepository(sa.create_engine("sqlite://"), source=platform.source)
    alice, bob = SAMPLES[0], SAMPLES[1]
    number = platform.number(alice.n)
    assert repo.verified_facts(number, alice.email.upper(), None) is not None
    assert repo.verified_facts(number, None, alice.postal) is not None
    assert repo.verified_facts(number, bob.email, None) is None  # another customer's
    assert repo.verified_facts(number, None, bob.postal) is None
    assert repo.verified_facts(platform.number(MISSING), alice.email, alice.postal) is None


def test_a_configured_source_reports_no_problems_and_answers_pings(platform: Platform) -> None:
    assert platform.source.problems() == []
    platform.source.ping()


def test_the_shop_numbering_finds_each_platforms_numbers(platform: Platform) -> None:
    n = SAMPLES[0].n
    assert platform.numbers.find(f"where is my order {n}?") == [platform.number(n)]
    assert platform.numbers.find(f"#{n}") == [platform.number(n)]


# -- failures --------------------------------------------------------------------------------


def test_a_sql_source_that_is_down_raises_a_source_error() -> None:
    from service.orders.mapping import load_mapping, preset_path
    from service.orders.sql_source import SqlOrderSource
    from tests.live_server import free_port

    closed = sa.create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x")
    source = SqlOrderSource(closed, load_mapping(preset_path("saleor")))
    with pytest.raises(SourceError):
        source.find("1001")


def _shopify(behaviour: FakeShopifyBehaviour) -> Iterator[tuple[FakeShopify, ShopifySource]]:
    with FakeShopify(behaviour) as fake:
        yield fake, ShopifySource(fake.url, TOKEN, "2025-10", timeout_s=1.0)


def test_shopify_throttling_is_waited_out_once_then_refused() -> None:
    from tests.order_platforms import shopify_order

    orders = [shopify_order(SAMPLES[0])]
    for fake, source in _shopify(FakeShopifyBehaviour(orders=orders, throttle_next=1)):
        assert source.find("#1001") is not None  # retried after the bucket refilled
        assert len(fake.behaviour.requests) == 2
        fake.behaviour.throttle_next, fake.behaviour.throttle_wait_s = 1, 30.0
        with pytest.raises(SourceError, match="throttled"):
            source.find("#1001")  # a refill longer than the lookup may wait
        fake.behaviour.throttle_next, fake.behaviour.throttle_wait_s = 2, 0.1
        with pytest.raises(SourceError, match="throttled"):
            source.find("#1001")  # throttled again after the one retry


def test_shopify_errors_and_slowness_are_source_errors() -> None:
    for fake, source in _shopify(FakeShopifyBehaviour()):
        wrong = ShopifySource(fake.url, "shpat_wrong", "2025-10", timeout_s=1.0)
        with pytest.raises(SourceError, match="token was refused"):
            wrong.find("#1001")
        assert wrong.problems() and "401" in wrong.problems()[0]
        fake.behaviour.fail_status = 503
        with pytest.raises(SourceError, match="503"):
            source.find("#1001")
        fake.behaviour.fail_status, fake.behaviour.slow_s = None, 1.5
        with pytest.raises(SourceError, match="in time"):
            source.find("#1001")
        sent = fake.behaviour.requests[-1]
        assert sent["headers"]["x-shopify-access-token"] == TOKEN
        assert sent["body"]["variables"] == {"query": 'name:"#1001"'}


def test_the_fake_refuses_fields_shopify_does_not_have() -> None:
    """Our query's fields are the documented ones: the fake answers it, and refuses a
    query with a field Shopify's Order object does not have."""
    import httpx

    for fake, source in _shopify(FakeShopifyBehaviour()):
        source.ping()
        bad = httpx.post(
            f"{fake.url}/admin/api/2025-10/graphql.json",
            headers={"X-Shopify-Access-Token": TOKEN},
            json={"query": "{ orders(first: 1) { nodes { trackingNumber } } }"},
        ).json()
        assert bad["errors"][0]["extensions"]["code"] == "undefinedField"
