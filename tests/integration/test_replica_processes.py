"""Two `faqbot serve` processes on one PostgreSQL, one Redis and one Chroma server, as
replicas on separate machines run (they share nothing else but the index folder with
its manifests and publish pointer, a shared volume in compose.yaml).

A customer's requests alternate between the two, as a round-robin load balancer sends
them: the conversation, the order verification, the failed-attempt locks, the
per-address limit, the answer cache and a newly published version must hold across both.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.db.migrations import upgrade
from tests.integration.shop import ALICE, BOB, seed_two_customers
from tests.live_server import ask as say
from tests.live_server import free_port, wait_until_ready

pytestmark = pytest.mark.integration
FAQBOT = [sys.executable, "-m", "cli.main"]
RETURNS = "How long do I have to return an item?"


@pytest.fixture
def cluster_env(
    chroma_server: int, postgres_url: str, redis_url: str, faq_dir: Path, tmp_path: Path
) -> dict[str, str]:
    """The settings both replicas and the ingest share; the FAQ ingested once."""
    upgrade(postgres_url)
    seed_two_customers(postgres_url)
    env = {
        **os.environ,
        "FAQBOT_INDEX__PATH": str(tmp_path / "shared-index"),
        "FAQBOT_INDEX__HOST": "127.0.0.1",
        "FAQBOT_INDEX__PORT": str(chroma_server),
        # a database of its own on the session's Chroma server (other tests use it too)
        "FAQBOT_INDEX__DATABASE": f"replicas_{uuid.uuid4().hex[:8]}",
        "FAQBOT_DB__URL": postgres_url,
        "FAQBOT_REDIS__URL": redis_url,
        "FAQBOT_CHAT__ANSWER_MODE": "canonical_first",  # no model call needed here
        "FAQBOT_ORDERS__MAX_FAILED_ATTEMPTS": "3",
        "FAQBOT_ORDERS__ATTEMPTS_PER_ADDRESS": "4",
    }
    ingest(env, faq_dir)
    return env


def ingest(env: dict[str, str], faq_dir: Path) -> None:
    done = subprocess.run(
        [*FAQBOT, "ingest", str(faq_dir)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def replicas(cluster_env: dict[str, str], tmp_path: Path) -> Iterator[list[str]]:
    procs: list[tuple[subprocess.Popen[bytes], Path]] = []
    urls = []
    try:
        for n in (1, 2):
            port = free_port()
            log = tmp_path / f"replica-{n}.log"
            proc = subprocess.Popen(
                [*FAQBOT, "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=cluster_env,
                stdout=subprocess.DEVNULL,
                stderr=log.open("w"),
            )
            procs.append((proc, log))
            urls.append(f"http://127.0.0.1:{port}")
        for url, (proc, log) in zip(urls, procs, strict=True):
            try:
                wait_until_ready(url, proc, 120)
            except RuntimeError as exc:
                pytest.fail(f"{exc}\n{log.read_text()}")
        yield urls
    finally:
        for proc, _ in procs:
            proc.terminate()
        for proc, _ in procs:
            proc.wait(timeout=30)


def test_a_conversation_alternating_between_replicas_keeps_everything(
    replicas: list[str], cluster_env: dict[str, str], faq_dir: Path
) -> None:
    one, two = replicas

    # The order number on one replica, the email on the other: the pending order and
    # then the verification are in PostgreSQL, so the other replica honours them.
    asked = say(one, f"Where is my order {ALICE['order']}?")
    session = str(asked["session_id"])
    assert "email" in str(asked["answer"]) and ALICE["tracking"] not in str(asked["answer"])
    verified = say(two, f"it's {ALICE['email']}", session)
    assert verified["session_id"] == session and ALICE["tracking"] in str(verified["answer"])
    follow = say(one, "when will it arrive?", session)
    assert follow["mode"] == "order" and f"{ALICE['order']} is expected on" in str(follow["answer"])

    # Failed attempts on both replicas add up to one lock, which both then enforce,
    # even for the right details.
    failing = None
    for n, base in enumerate((one, two, one)):
        failing = str(
            say(base, f"order {BOB['order']} email x{n}@example.com", failing)["session_id"]
        )
    for base in (two, one):
        locked = say(base, f"order {BOB['order']} email {BOB['email']}", failing)
        assert "paused" in str(locked["answer"]) and BOB["tracking"] not in str(locked["answer"])

    # The per-address limit counts across replicas: 4 checks so far (1 + 3; a locked
    # session is refused before any check), so the next from this address is refused on
    # either replica, even with the right details.
    limited = [say(base, f"order {ALICE['order']} email {ALICE['email']}") for base in replicas]
    for reply in limited:
        assert ALICE["tracking"] not in str(reply["answer"])
        assert "too many" in str(reply["answer"]).lower()

    # One replica's answer is the other's cache hit (Redis).
    first = say(two, RETURNS)
    again = say(one, RETURNS)
    assert again["cached"] and again["answer"] == first["answer"]

    # A version published by ingest (to the Chroma server) is served by both, no restart.
    path = faq_dir / "returns.md"
    path.write_text(path.read_text().replace("30 days", "45 days"), encoding="utf-8")
    ingest(cluster_env, faq_dir)
    for base in replicas:
        deadline = time.monotonic() + 15
        while "45 days" not in str(say(base, RETURNS)["answer"]):
            assert time.monotonic() < deadline, f"{base} still serves the old version"
            time.sleep(0.3)
