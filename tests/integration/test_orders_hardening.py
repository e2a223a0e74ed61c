"""Order lookup under attack: guessing one order from many sessions and addresses,
concurrent tries in one session, claimed client addresses, client-chosen session ids."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest
from fastapi.testclient import TestClient

from service.config import OrderSettings, Settings
from service.db.engine import make_engine
from service.db.migrations import upgrade
from service.orders.assistant import OrderAssistant
from service.orders.attempts import SqlAttemptCounter
from service.orders.repository import OrderFacts, OrderRepository
from service.orders.seed import seed_demo
from tests.databases import BACKENDS
from tests.fakes.instant_model import InstantChatModel
from tests.integration.shop import ALICE

pytestmark = pytest.mark.integration
MakeClient = Callable[..., TestClient]
CONTACT = "hello@northwind-outdoor.example"


def say(client: TestClient, message: str, session: str | None = None) -> dict[str, object]:
    r = client.post("/v1/chat", json={"message": message, "session_id": session})
    assert r.status_code == 200, r.text
    return r.json()


def test_an_order_locks_after_failures_from_many_sessions(
    seeded: Settings, make_client: MakeClient
) -> None:
    client = make_client(InstantChatModel())
    replies = [
        say(client, f"order {ALICE['order']} postcode {10116 + i}")["answer"] for i in range(5)
    ]
    assert all("couldn't verify" in str(r) for r in replies[:4])
    # The fifth failure, in its own new session, locks the order itself ...
    assert "lookups of this order are paused" in str(replies[4]) and CONTACT in str(replies[4])
    # ... for everyone: a new session with the right email is not let in, nor the form.
    owner = say(client, f"order {ALICE['order']} email {ALICE['email']}")
    assert "paused" in str(owner["answer"]) and ALICE["tracking"] not in str(owner["answer"])
    form = client.post(
        "/v1/orders/lookup", json={"order_number": ALICE["order"], "email": ALICE["email"]}
    )
    assert form.status_code == 429 and ALICE["tracking"] not in form.text


def test_changing_address_does_not_reset_the_order_lock(seeded: Settings) -> None:
    engine = make_engine(seeded.db.url)
    assistant = OrderAssistant(OrderRepository(engine), OrderSettings(max_order_failures=3))

    async def guesses() -> list[str]:
        outcomes = []
        for i in range(4):  # a new session and a new address for every guess
            reply = await assistant.lookup(
                f"s{i}", ALICE["order"], None, f"9{i:04d}", f"203.0.113.{i}"
            )
            outcomes.append(reply.outcome)
        right = await assistant.lookup("s9", ALICE["order"], ALICE["email"], None, "198.51.100.7")
        return [*outcomes, right.outcome]

    try:
        outcomes = asyncio.run(guesses())
    finally:
        engine.dispose()
    assert outcomes == [
        "not_verified",
        "not_verified",
        "order_locked",
        "order_locked",
        "order_locked",
    ]


def test_a_shop_can_require_the_email(seeded: Settings, make_client: MakeClient) -> None:
    client = make_client(InstantChatModel(), orders={"allow_postal_code": False})
    reply = say(client, f"order {ALICE['order']} postcode {ALICE['postal']}")
    assert ALICE["tracking"] not in str(reply["answer"])
    assert "email address the order was placed with" in str(reply["answer"])
    form = client.post(
        "/v1/orders/lookup", json={"order_number": ALICE["order"], "postal_code": ALICE["postal"]}
    )
    assert form.status_code == 422 and "email" in form.text
    ok = say(client, f"order {ALICE['order']} email {ALICE['email']}")
    assert ALICE["tracking"] in str(ok["answer"])


class CountingRepository(OrderRepository):
    """Counts how often ownership is checked against the database."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.checks = 0
        self._lock = threading.Lock()

    def verified_facts(
        self, order_number: str, email: str | None, postal_code: str | None
    ) -> OrderFacts | None:
        with self._lock:
            self.checks += 1
        return super().verified_facts(order_number, email, postal_code)


@pytest.mark.parametrize("backend", BACKENDS)
def test_concurrent_wrong_tries_are_counted_atomically(
    backend: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(backend)
    upgrade(url)
    engine = make_engine(url)
    seed_demo(engine, 20)
    repo = CountingRepository(engine)
    settings = OrderSettings(max_failed_attempts=5, max_order_failures=1000)
    assistant = OrderAssistant(repo, settings)
    session = "a" * 32

    async def burst() -> list[str]:
        tries = [
            assistant.handle_message(session, f"order NW-100003 email x{i}@example.com", "c")
            for i in range(20)
        ]
        return [r.outcome if r else "faq" for r in await asyncio.gather(*tries)]

    try:
        outcomes = asyncio.run(burst())
        counter = SqlAttemptCounter(engine, 3600)
        state = counter.peek("session", session, datetime.now(UTC))
    finally:
        engine.dispose()
    # Every try was counted before its check, so only the allowance was checked at all.
    assert repo.checks == 5, outcomes
    assert outcomes.count("not_verified") == 4 and outcomes.count("locked") == 16
    assert state.locked(datetime.now(UTC))


def _attempt(base: str, i: int, forwarded: str) -> str:
    r = httpx.post(
        f"{base}/v1/chat",
        json={"message": f"order {ALICE['order']} email guess{i}@example.com"},
        headers={"X-Forwarded-For": forwarded},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return str(r.json()["answer"])


def test_a_forwarded_address_buys_no_new_allowance(
    seeded: Settings, live_server: Callable[..., str]
) -> None:
    base = live_server(InstantChatModel(), orders={"attempts_per_address": 3})
    answers = [_attempt(base, i, f"203.0.113.{i}") for i in range(4)]
    assert "Too many lookup attempts" in answers[3]  # X-Forwarded-For from 127.0.0.1 ignored


def test_trusted_proxies_pass_the_client_address_on(
    seeded: Settings, live_server: Callable[..., str]
) -> None:
    base = live_server(
        InstantChatModel(),
        orders={"attempts_per_address": 2, "max_order_failures": 100},
        server={"trusted_proxies": ["127.0.0.1"]},
    )
    # Each client behind the proxy has its own allowance ...
    assert all("Too many" not in _attempt(base, i, f"203.0.113.{i}") for i in range(4))
    # ... and a client cannot reset its own by writing addresses further left.
    same = [_attempt(base, 10 + i, f"10.9.9.{i}, 198.51.100.1") for i in range(3)]
    assert "Too many lookup attempts" in same[2]


def test_session_ids_are_minted_by_the_server(seeded: Settings, make_client: MakeClient) -> None:
    client = make_client(InstantChatModel())
    chosen = say(client, f"order {ALICE['order']} email {ALICE['email']}", "support-ticket-42")
    session = str(chosen["session_id"])
    assert session != "support-ticket-42" and len(session) == 32
    assert ALICE["tracking"] in str(chosen["answer"])
    # Someone who tries the id the customer wanted learns nothing ...
    other = say(client, f"where is my order {ALICE['order']}?", "support-ticket-42")
    assert other["session_id"] not in ("support-ticket-42", session)
    assert ALICE["tracking"] not in str(other["answer"])
    # ... and the minted id continues the customer's own conversation.
    again = say(client, f"and where is order {ALICE['order']} now?", session)
    assert again["session_id"] == session and ALICE["tracking"] in str(again["answer"])


def test_wrong_details_fail_even_in_a_verified_session(
    seeded: Settings, make_client: MakeClient
) -> None:
    client = make_client(InstantChatModel())
    session = str(say(client, f"order {ALICE['order']} email {ALICE['email']}")["session_id"])
    wrong = say(client, f"order {ALICE['order']} email someone@else.example", session)
    assert "couldn't verify" in str(wrong["answer"])
    assert ALICE["tracking"] not in str(wrong["answer"])
    form = client.post(
        "/v1/orders/lookup",
        json={"order_number": ALICE["order"], "email": "x@else.example", "session_id": session},
    )
    assert form.status_code == 403 and ALICE["tracking"] not in form.text


def test_concurrent_lookups_from_many_clients_all_get_answers(
    seeded: Settings, live_server: Callable[..., str]
) -> None:
    """A healthy database under a burst: no one is told it is unavailable."""
    base = live_server(InstantChatModel(), orders={"attempts_per_address": 1000})

    def ask(i: int) -> str:
        r = httpx.post(
            f"{base}/v1/chat",
            json={"message": f"order NW-20000{i % 3 + 1} email nobody{i}@example.com"},
            timeout=30,
        )
        return str(r.json()["answer"])

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(ask, range(40)))
    assert not [a for a in answers if "temporarily unavailable" in a]
