from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from service.config import OrderSettings
from service.db.engine import make_engine
from service.db.migrations import upgrade
from service.logging_setup import PiiFilter
from service.orders.assistant import OrderAssistant
from service.orders.repository import OrderRepository
from service.orders.seed import STATUSES, seed_demo
from service.privacy import mask_pii


def test_mask_pii() -> None:
    masked = mask_pii("lookup for Anna.Berg@example.com, postcode 10115, Seestraße 12 failed")
    assert masked == "lookup for A***@example.com, postcode ***, *** (address) failed"


def test_pii_filter_masks_log_records(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("faqbot.test-pii")
    logger.addFilter(PiiFilter())
    with caplog.at_level(logging.INFO, logger="faqbot.test-pii"):
        logger.info("verify %s", "bob@example.org")
    assert "bob@example.org" not in caplog.text and "b***@example.org" in caplog.text


@pytest.fixture
def demo_engine(tmp_path: Path) -> sa.Engine:
    url = f"sqlite:///{tmp_path / 'orders.db'}"
    upgrade(url)
    engine = make_engine(url)
    seed_demo(engine, 200, now=datetime(2026, 11, 20, tzinfo=UTC))
    return engine


def test_demo_seed_covers_every_status(demo_engine: sa.Engine) -> None:
    with demo_engine.connect() as conn:
        counts = dict(
            conn.execute(sa.text("select status, count(*) from orders group by status")).all()
        )
        shipped_without_tracking = conn.execute(
            sa.text(
                "select count(*) from orders o left join shipments s on s.order_id = o.id "
                "where o.status in ('shipped','delivered','delayed') and s.id is null"
            )
        ).scalar_one()
    assert set(counts) == set(STATUSES) and sum(counts.values()) == 200
    assert min(counts.values()) == 20
    assert shipped_without_tracking == 0
    with pytest.raises(ValueError, match="already has orders"):
        seed_demo(demo_engine, 10)


def test_verified_state_expires(demo_engine: sa.Engine) -> None:
    repo = OrderRepository(demo_engine)
    with demo_engine.connect() as conn:
        number, email = conn.execute(
            sa.text(
                "select o.order_number, c.email from orders o "
                "join customers c on c.id = o.customer_id where o.status = 'shipped' limit 1"
            )
        ).one()
    now = [datetime(2026, 11, 20, 12, tzinfo=UTC)]
    assistant = OrderAssistant(repo, OrderSettings(verified_minutes=15), clock=lambda: now[0])

    async def scenario() -> list[str]:
        outcomes = []
        r = await assistant.handle_message("s1", f"order {number} email {email}", "c")
        outcomes.append(r.outcome if r else "none")
        now[0] += timedelta(minutes=10)
        r = await assistant.handle_message("s1", f"and where is order {number} now?", "c")
        outcomes.append(r.outcome if r else "none")
        now[0] += timedelta(minutes=10)  # 20 minutes after verification
        r = await assistant.handle_message("s1", f"where is order {number}?", "c")
        outcomes.append(r.outcome if r else "none")
        return outcomes

    assert asyncio.run(scenario()) == ["facts", "facts", "ask_contact"]


def test_not_an_order_question_goes_to_the_faq(demo_engine: sa.Engine) -> None:
    assistant = OrderAssistant(OrderRepository(demo_engine), OrderSettings())
    assert asyncio.run(assistant.handle_message("s", "How do I track my order?", "c")) is None


def test_follow_ups_say_nothing_of_the_order_after_verification_expires(
    demo_engine: sa.Engine,
) -> None:
    repo = OrderRepository(demo_engine)
    with demo_engine.connect() as conn:
        number, email = conn.execute(
            sa.text(
                "select o.order_number, c.email from orders o "
                "join customers c on c.id = o.customer_id where o.status = 'delivered' limit 1"
            )
        ).one()
    now = [datetime(2026, 11, 20, 12, tzinfo=UTC)]
    assistant = OrderAssistant(repo, OrderSettings(verified_minutes=15), clock=lambda: now[0])

    async def scenario() -> list[object]:
        await assistant.handle_message("s1", f"order {number} email {email}", "c")
        during = await assistant.handle_message("s1", "can I still return it?", "c")
        now[0] += timedelta(minutes=16)
        after = await assistant.handle_message("s1", "can I still return it?", "c")
        return [during.topic if during else None, after]

    assert asyncio.run(scenario()) == ["returns", None]  # after expiry: the FAQ answers


def test_follow_up_topics() -> None:
    from service.orders.extract import follow_up_topic

    assert follow_up_topic("can I still return it?") == "returns"
    assert follow_up_topic("when will it arrive?") == "arrival"
    assert follow_up_topic("what was in it?") == "items"
    assert follow_up_topic("which carrier?") == "carrier"
    assert follow_up_topic("can I return a jacket I bought in a store?") is None
    assert follow_up_topic("How long do I have to return an item?") is None
