"""Requests about an order in the chat: cancel, return, a new delivery address. Only in a
verified session, only after the customer says yes, refused in words when the order
does not allow them; recorded before they are sent, delivered to the shop's webhook
signed, and retried when the webhook is down or slow (nothing lost)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pydantic import SecretStr

from service.config import HandoffSettings, RequestSettings, Settings
from service.db.tables import order_request_log, order_requests, orders
from service.orders.desk import RequestDesk
from service.orders.requests import OrderRequest
from tests.fakes.instant_model import InstantChatModel
from tests.fakes.webhook_receiver import SECRET, ReceiverBehaviour, WebhookReceiver
from tests.integration.shop import ALICE, BOB

pytestmark = pytest.mark.integration
MakeClient = Callable[..., TestClient]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as r:
        yield r


@pytest.fixture
def client(seeded: Settings, make_client: MakeClient, receiver: WebhookReceiver) -> TestClient:
    hook = {"webhook_url": receiver.url, "webhook_secret": SecretStr(SECRET)}
    return make_client(InstantChatModel(), requests=hook)


def say(client: TestClient, message: str, session: str | None = None) -> dict[str, Any]:
    r = client.post("/v1/chat", json={"message": message, "session_id": session})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def verified(client: TestClient, number: str, email: str) -> str:
    return str(say(client, f"order {number} {email}")["session_id"])


def rows(url: str) -> list[Any]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        found = list(conn.execute(sa.select(order_requests)).all())
    engine.dispose()
    return found


def test_a_cancellation_is_confirmed_recorded_and_sent_signed(
    client: TestClient, seeded: Settings, receiver: WebhookReceiver
) -> None:
    session = verified(client, "NW-200003", BOB["email"])  # paid: may still be cancelled
    asked = say(client, "Please cancel this order", session)
    assert asked["action"] == "confirm_request" and "cancel order NW-200003" in asked["answer"]
    assert rows(seeded.db.url) == []  # nothing recorded before the customer says yes
    done = say(client, "Yes", session)
    assert "reference R-" in done["answer"] and done["action"] is None
    [row] = rows(seeded.db.url)
    assert (row.kind, row.order_number, row.session_id) == ("cancel", "NW-200003", session)
    [sent] = receiver.wait_for(1)  # the worker delivers at once, signed
    assert sent["kind"] == "cancel" and sent["reference"] in done["answer"]
    assert sent["order_number"] == "NW-200003" and BOB["email"] not in str(sent)
    assert receiver.behaviour.refused == 0


def test_a_return_names_the_items_and_a_no_sends_nothing(
    client: TestClient, seeded: Settings
) -> None:
    session = verified(client, BOB["order"], BOB["email"])  # delivered three days ago
    asked = say(client, "I want to return the boots", session)
    assert asked["action"] == "confirm_request" and BOB["item"] in asked["answer"]
    dropped = say(client, "no", session)
    assert "nothing was sent" in dropped["answer"] and rows(seeded.db.url) == []
    say(client, "I'd like to return the boots", session)
    say(client, "yes", session)
    [row] = rows(seeded.db.url)
    assert row.kind == "return" and row.details["items"] == [BOB["item"]]


def test_a_new_address_before_shipping_and_in_german(client: TestClient, seeded: Settings) -> None:
    session = verified(client, "NW-200003", BOB["email"])
    asked = say(client, "Bitte ändere die Lieferadresse auf Seestraße 7, 8002 Zürich", session)
    assert asked["lang"] == "de" and "Seestraße 7, 8002 Zürich" in asked["answer"]
    assert "Ja oder Nein" in asked["answer"]
    done = say(client, "Ja", session)
    assert "Referenz R-" in done["answer"]
    [row] = rows(seeded.db.url)
    assert row.kind == "address" and row.details["address"] == "Seestraße 7, 8002 Zürich"


def test_requests_the_order_does_not_allow_are_refused_in_words(
    client: TestClient, seeded: Settings
) -> None:
    alice = verified(client, ALICE["order"], ALICE["email"])  # shipped
    cancel = say(client, "cancel my order", alice)
    assert "can no longer be cancelled" in cancel["answer"] and cancel["action"] is None
    address = say(client, "please change the delivery address to 221b Baker Street, London", alice)
    assert "handed to the carrier" in address["answer"]
    early = say(client, "I want to return the jacket", alice)
    assert "not been delivered yet" in early["answer"]
    engine = sa.create_engine(seeded.db.url)
    with engine.begin() as conn:  # Bob's delivery, 40 days ago: past the FAQ's 30 days
        long_ago = datetime.now(UTC) - timedelta(days=40)
        conn.execute(
            orders.update()
            .where(orders.c.order_number == BOB["order"])
            .values(delivered_at=long_ago)
        )
    engine.dispose()
    bob = verified(client, BOB["order"], BOB["email"])
    late = say(client, "I want to return the boots", bob)
    assert "30-day return window" in late["answer"] and late["action"] is None
    assert rows(seeded.db.url) == []


def test_a_request_needs_a_verified_session(client: TestClient, seeded: Settings) -> None:
    asked = say(client, "Please cancel my order")
    assert "first need to verify the order" in asked["answer"]
    assert say(client, "yes", asked["session_id"])["mode"] != "order" or rows(seeded.db.url) == []
    assert rows(seeded.db.url) == []


def test_a_webhook_that_times_out_is_retried_until_it_answers(seeded: Settings) -> None:
    """Nothing lost: the request is kept, retried with growing waits, delivered once the
    shop's endpoint answers; a request that never gets through ends as 'failed'."""
    now = [datetime(2026, 12, 4, 12, tzinfo=UTC)]
    engine = sa.create_engine(seeded.db.url)
    slow = ReceiverBehaviour(delay_s=2.0)
    with WebhookReceiver(slow) as receiver:
        settings = RequestSettings(
            webhook_url=receiver.url,
            webhook_secret=SecretStr(SECRET),
            webhook_timeout_s=0.5,
            retry_s=60,
            max_attempts=3,
        )
        desk = RequestDesk(engine, settings, HandoffSettings(), clock=lambda: now[0])
        recorded = desk.record("s1", OrderRequest("cancel", "NW-200003"))
        assert desk.deliver_due() == 0  # timed out
        [row] = rows(seeded.db.url)
        assert (row.delivery, row.attempts) == ("pending", 1) and "Timeout" in row.last_error
        assert desk.deliver_due() == 0  # not due again before its wait
        now[0] += timedelta(seconds=61)
        slow.delay_s = 0.0
        assert desk.deliver_due() == 1
        [sent] = receiver.wait_for(1)
        assert sent["reference"] == recorded.reference and sent["attempt"] == 2
        # one that never gets through
        slow.status = 503
        desk.record("s2", OrderRequest("return", BOB["order"], (BOB["item"],)))
        for wait in (0, 61, 121):
            now[0] += timedelta(seconds=wait)
            desk.deliver_due()
        failed = [r for r in rows(seeded.db.url) if r.delivery == "failed"]
        assert len(failed) == 1 and "503" in failed[0].last_error
        desk.close()
    with engine.connect() as conn:
        events = [r.event for r in conn.execute(sa.select(order_request_log.c.event)).all()]
    engine.dispose()
    assert events.count("created") == 2 and "delivered" in events and "gave up" in events


def test_without_a_webhook_requests_are_kept_for_the_console(
    seeded: Settings, make_client: MakeClient
) -> None:
    client = make_client(InstantChatModel())
    session = verified(client, "NW-200003", BOB["email"])
    say(client, "please cancel it", session)
    say(client, "yes", session)
    [row] = rows(seeded.db.url)
    assert row.delivery == "kept"
