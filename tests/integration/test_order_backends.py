"""The order repository and verification flow on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from service.config import OrderSettings
from service.db.engine import make_engine
from service.db.migrations import upgrade
from service.orders.assistant import OrderAssistant
from service.orders.repository import OrderRepository
from service.orders.seed import STATUSES, seed_demo
from tests.databases import BACKENDS

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("backend", BACKENDS)
def test_seed_verify_and_lock(backend: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(backend)
    upgrade(url)
    engine = make_engine(url)
    try:
        assert seed_demo(engine, 200) == 200
        with engine.connect() as conn:
            statuses = {r[0] for r in conn.execute(sa.text("select distinct status from orders"))}
            number, email, code = conn.execute(
                sa.text(
                    "select o.order_number, c.email, c.postal_code from orders o "
                    "join customers c on c.id = o.customer_id where o.status = 'delivered' "
                    "order by o.id"
                )
            ).first()  # type: ignore[misc]
        assert statuses == set(STATUSES)
        repo = OrderRepository(engine)
        facts = repo.verified_facts(number, email.upper(), None)
        assert facts is not None and facts.status == "delivered" and facts.items
        assert facts.tracking_number and facts.events[-1].status == "delivered"
        assert repo.verified_facts(number, None, code.lower()) is not None
        assert repo.verified_facts(number, "someone@else.example", None) is None
        assert repo.verified_facts("NW-999999", email, None) is None

        assistant = OrderAssistant(repo, OrderSettings(max_failed_attempts=3))

        async def say(session: str, messages: list[str]) -> list[str]:
            out = []
            for message in messages:
                reply = await assistant.handle_message(session, message, "10.0.0.1")
                out.append(reply.outcome if reply else "faq")
            return out

        assert asyncio.run(say("s1", [f"where is order {number}?", email])) == [
            "ask_contact",
            "facts",
        ]
        wrong = [f"order {number} email wrong{i}@example.com" for i in range(3)]
        assert asyncio.run(say("s2", [*wrong, f"order {number} email {email}"])) == [
            "not_verified",
            "not_verified",
            "locked",
            "locked",
        ]
    finally:
        engine.dispose()


def test_order_facts_from_a_read_replica_and_the_verification_state_on_the_primary(
    postgres_url: str, make_client: object, chat_settings: object
) -> None:
    """The replica (PostgreSQL here) has the orders; the primary (the chat database,
    SQLite) has none of them. Lookups must read the facts from the replica and write
    every verification and attempt to the primary, never to the replica."""
    from fastapi.testclient import TestClient

    from service.config import Settings
    from tests.fakes.instant_model import InstantChatModel
    from tests.integration.shop import ALICE, seed_two_customers

    assert isinstance(chat_settings, Settings) and callable(make_client)
    upgrade(postgres_url)
    seed_two_customers(postgres_url)

    def lookup(client: TestClient) -> str:
        first = client.post("/v1/chat", json={"message": f"where is {ALICE['order']}?"}).json()
        body = {"message": ALICE["email"], "session_id": first["session_id"]}
        return str(client.post("/v1/chat", json=body).json()["answer"])

    without = make_client(InstantChatModel())
    assert ALICE["tracking"] not in lookup(without)  # the primary has no orders
    with_replica = make_client(InstantChatModel(), orders={"read_url": postgres_url})
    assert ALICE["tracking"] in lookup(with_replica)

    count = "select count(*) from {} where verified_order is not null"
    primary, replica = make_engine(chat_settings.db.url), make_engine(postgres_url)
    try:
        with primary.connect() as conn:
            assert conn.execute(sa.text(count.format("order_access"))).scalar() == 1
            assert conn.execute(sa.text("select count(*) from attempt_counters")).scalar()
        with replica.connect() as conn:
            assert conn.execute(sa.text("select count(*) from order_access")).scalar() == 0
            assert conn.execute(sa.text("select count(*) from attempt_counters")).scalar() == 0
    finally:
        primary.dispose()
        replica.dispose()
