"""A bad day in production: a hung database, a write-locked one, a busy model, a missing
or broken model file, a corrupt chat database. One slow or broken part must not stall
or break the others, and failures must not leak details."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from service.api.health import DOWN_REASONS
from service.config import Settings
from service.llm.llamacpp import LlamaCppChatModel
from tests.fakes.blackhole import Blackhole
from tests.fakes.instant_model import InstantChatModel
from tests.fakes.slow_model import GatedChatModel
from tests.integration.shop import ALICE
from tests.sse import sse_events

pytestmark = pytest.mark.integration
MakeClient = Callable[..., TestClient]
LiveServer = Callable[..., str]
GENERATE = {"answer_mode": "generate"}
FAQ_QUESTION = "How long do I have to return an item?"


# -- one slow part must not stall the rest ------------------------------------------------


def test_a_hung_orders_database_does_not_stall_faq_answers(
    seeded: Settings, live_server: LiveServer
) -> None:
    with Blackhole() as hung:
        base = live_server(
            InstantChatModel(),
            orders={
                "db_url": f"postgresql+psycopg://nobody@127.0.0.1:{hung.port}/shop",
                "db_timeout_s": 1.0,
            },
            db={"breaker_open_s": 120},
        )

        def order_question(i: int) -> str:
            r = httpx.post(
                f"{base}/v1/chat",
                json={"message": f"where is my order NW-2000{i:02d}?"},
                timeout=60,
            )
            return str(r.json()["answer"])

        with ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(order_question, range(12)))
        assert all("temporarily unavailable" in a for a in answers)
        # FAQ answers and the readiness probe go on (a stall would hit these timeouts).
        faq = httpx.post(f"{base}/v1/chat", json={"message": FAQ_QUESTION}, timeout=10)
        assert faq.status_code == 200 and faq.json()["sources"]
        ready = httpx.get(f"{base}/readyz", timeout=10)
        assert ready.status_code == 503 and ready.json()["checks"]["orders"] == "down"
        assert ready.json()["checks"]["index"] == "ok"
        # The breaker is open: more order questions are answered without a new
        # connection to the hung database.
        connections = hung.accepted
        for i in range(5):
            assert "temporarily unavailable" in order_question(i)
        assert hung.accepted == connections


def test_a_write_locked_chat_database_does_not_hold_answers(
    seeded: Settings, make_client: MakeClient
) -> None:
    model = InstantChatModel("Thirty days [1].")
    client = make_client(model, chat=GENERATE)
    path = seeded.db.url.removeprefix("sqlite:///")
    locker = sqlite3.connect(path, timeout=1, check_same_thread=False)
    locker.execute("BEGIN IMMEDIATE")  # another writer holds the database
    try:
        first = client.post("/v1/chat", json={"message": FAQ_QUESTION})
        assert first.status_code == 200 and first.json()["mode"] == "generated"
        session = first.json()["session_id"]
        # A follow-up at once: the session is known and its history is there, though
        # nothing could be written yet.
        follow = client.post(
            "/v1/chat",
            json={"message": "what is the return period for shoes?", "session_id": session},
        )
        assert follow.status_code == 200 and follow.json()["session_id"] == session
        assert f"Customer: {FAQ_QUESTION}" in model.prompts[-1][1].content
        with sqlite3.connect(path) as reader:
            assert reader.execute("select count(*) from chat_messages").fetchone() == (0,)
    finally:
        locker.rollback()
        locker.close()
    # Released: both exchanges are written, nothing lost.
    engine = sa.create_engine(seeded.db.url)
    deadline = time.monotonic() + 30
    rows = 0
    while time.monotonic() < deadline and rows < 4:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("select count(*) from chat_messages where session_id = :s"), {"s": session}
            ).scalar_one()
        time.sleep(0.1)
    engine.dispose()
    assert rows == 4
    assert client.app.state.history.lost == 0  # type: ignore[attr-defined]


def _ask_async(base: str, results: dict[str, object], name: str) -> threading.Thread:
    def run() -> None:
        r = httpx.post(f"{base}/v1/chat", json={"message": FAQ_QUESTION}, timeout=60)
        results[name] = r.json()["mode"] if r.status_code == 200 else r.status_code

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_time_queued_for_the_model_counts_in_its_deadline(
    seeded: Settings, live_server: LiveServer
) -> None:
    model = GatedChatModel()
    base = live_server(
        model,
        chat=GENERATE | {"cache_size": 0},
        llm={"max_concurrent": 2, "max_queue": 4, "first_token_timeout_s": 1.0},
    )
    results: dict[str, object] = {}
    first = _ask_async(base, results, "first")
    while model.started == 0:
        time.sleep(0.01)
    # The model runs one generation at a time: the second waits, and when the model
    # cannot start it by the first-token deadline it gets the FAQ's own text.
    second = httpx.post(f"{base}/v1/chat", json={"message": FAQ_QUESTION}, timeout=60).json()
    assert second["mode"] == "fallback" and "30 days" in second["answer"]
    assert second["timings"]["llm_first_token_ms"] is None
    assert model.started == 1  # it never reached the model
    model.release.set()
    first.join()
    assert results["first"] == "generated"


def test_beyond_the_queue_requests_get_429(seeded: Settings, live_server: LiveServer) -> None:
    model = GatedChatModel()
    base = live_server(
        model, chat=GENERATE | {"cache_size": 0}, llm={"max_concurrent": 2, "max_queue": 0}
    )
    results: dict[str, object] = {}
    first = _ask_async(base, results, "first")
    while model.started == 0:
        time.sleep(0.01)
    busy = httpx.post(f"{base}/v1/chat", json={"message": FAQ_QUESTION}, timeout=60)
    assert busy.status_code == 429 and int(busy.headers["retry-after"]) > 0
    model.release.set()
    first.join()
    assert results["first"] == "generated"


# -- bad input ------------------------------------------------------------------------------


def test_lone_surrogates_get_a_422_not_a_500(make_client: MakeClient) -> None:
    client = make_client(InstantChatModel())
    raw = b'{"message": "\\ud800"}'
    for path in ("/v1/chat", "/v1/chat/stream"):
        r = client.post(path, content=raw, headers={"content-type": "application/json"})
        assert r.status_code == 422, (path, r.text)
        assert r.json()["detail"][0]["loc"] == ["body", "message"]
    r = client.post(
        "/v1/feedback",
        content=b'{"message_id": "\\ud800", "rating": "up"}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422
    # Text that merely contains one is refused the same way: a lone surrogate is no
    # character, and nothing downstream (database, JSON, logs) could take it.
    r = client.post(
        "/v1/chat",
        content=b'{"message": "How long do I have to return an item? \\ud800"}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "message"]
    # Control characters are refused the same way; invisible marks are dropped.
    for raw_text in (b"bell \\u0007", b"nul \\u0000", b"escape \\u001b[2J"):
        r = client.post(
            "/v1/chat",
            content=b'{"message": "' + raw_text + b'"}',
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 422, raw_text
    ok = client.post("/v1/chat", json={"message": FAQ_QUESTION + " \u200b\u202e"})
    assert ok.status_code == 200
    # An optional comment follows the same rule as every other text.
    fb = client.post(
        "/v1/feedback",
        content=b'{"message_id": "%s", "rating": "down", "comment": "bad \\udfff"}'
        % ok.json()["message_id"].encode(),
        headers={"content-type": "application/json"},
    )
    assert fb.status_code == 422, fb.text


def test_large_bodies_are_refused_before_reading(seeded: Settings, live_server: LiveServer) -> None:
    base = live_server(InstantChatModel())
    big = json.dumps({"message": "x" * 200_000})
    r = httpx.post(f"{base}/v1/chat", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and len(r.content) < 300

    def chunks() -> object:
        yield b'{"message": "'
        for _ in range(400):
            yield b"y" * 1000
        yield b'"}'

    r = httpx.post(
        f"{base}/v1/chat", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413
    # Under the body limit but over the message limit: a short 422, no echo.
    r = httpx.post(f"{base}/v1/chat", json={"message": "z" * 5000})
    assert r.status_code == 422 and "zzzz" not in r.text and len(r.content) < 500


# -- model failures -------------------------------------------------------------------------


@pytest.mark.parametrize("broken", ["missing", "garbage"])
def test_a_missing_or_broken_model_file_falls_back(
    broken: str, make_client: MakeClient, tmp_path: Path
) -> None:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is installed by `make test`")
    path = tmp_path / "model.gguf"
    if broken == "garbage":
        path.write_bytes(b"GGUF" + bytes(range(256)) * 64)
    client = make_client(LlamaCppChatModel(path, n_ctx=512), chat=GENERATE)  # starts anyway
    body = client.post("/v1/chat", json={"message": FAQ_QUESTION})
    assert body.status_code == 200
    assert body.json()["mode"] == "fallback" and "30 days" in body.json()["answer"]
    stream = client.post("/v1/chat/stream", json={"message": "Which countries do you ship to?"})
    kinds = [k for k, _ in sse_events(stream.text)]
    assert kinds == ["sources", "token", "done"]
    assert sse_events(stream.text)[-1][1]["mode"] == "fallback"
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["model"] == "down"
    assert str(path) not in ready.text


def test_a_model_adapter_bug_still_gives_an_answer(make_client: MakeClient) -> None:
    class Broken(InstantChatModel):
        async def stream(self, messages, options):  # type: ignore[no-untyped-def,override]
            raise KeyError("choices")
            yield ""

    client = make_client(Broken(), chat=GENERATE)
    body = client.post("/v1/chat", json={"message": FAQ_QUESTION}).json()
    assert body["mode"] == "fallback" and "30 days" in body["answer"]


# -- failures leak nothing ----------------------------------------------------------------


def test_a_corrupt_chat_database_gives_503_and_faq_answers_go_on(
    seeded: Settings, make_client: MakeClient, tmp_path: Path
) -> None:
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not a database" * 100)
    client = make_client(
        InstantChatModel(),
        db={"url": f"sqlite:///{corrupt}"},
        orders={"db_url": seeded.db.url},
    )
    faq = client.post("/v1/chat", json={"message": FAQ_QUESTION})
    assert faq.status_code == 200 and faq.json()["mode"] in ("canonical", "generated")
    fb = client.post("/v1/feedback", json={"message_id": "a" * 32, "rating": "up"})
    assert fb.status_code == 503 and "corrupt.db" not in fb.text
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {
        "ready": False,
        "checks": {"index": "ok", "model": "ok", "database": "down", "orders": "ok"},
        "reasons": {"database": DOWN_REASONS["database"]},
    }
    assert "corrupt.db" not in ready.text


def test_readyz_checks_the_orders_database(seeded: Settings, make_client: MakeClient) -> None:
    client = make_client(
        InstantChatModel(), orders={"db_url": "postgresql+psycopg://nobody@127.0.0.1:9/none"}
    )
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["orders"] == "down"
    assert "127.0.0.1" not in ready.text and "psycopg" not in ready.text
    # And the order form says so clearly.
    form = client.post(
        "/v1/orders/lookup", json={"order_number": ALICE["order"], "email": ALICE["email"]}
    )
    assert form.status_code == 503 and "temporarily unavailable" in form.text
