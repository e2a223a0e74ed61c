"""Two service instances, each on its own real uvicorn server, sharing one PostgreSQL
chat database, one Redis and one index folder, as replicas behind a load balancer do."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from ingest.pipeline import IngestPipeline
from service.db.migrations import upgrade
from tests.fakes.instant_model import InstantChatModel

pytestmark = pytest.mark.integration
RETURNS = "How long do I have to return an item?"


def ask(base: str, message: str, session: str | None = None) -> dict[str, object]:
    body = {"message": message, **({"session_id": session} if session else {})}
    r = httpx.post(f"{base}/v1/chat", json=body, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_replicas_share_conversations_answers_and_published_versions(
    live_server: Callable[..., str],
    postgres_url: str,
    redis_url: str,
    faq_dir: Path,
    make_pipeline: Callable[..., IngestPipeline],
) -> None:
    upgrade(postgres_url)
    shared = {"db": {"url": postgres_url}, "redis": {"url": redis_url}}
    one = live_server(InstantChatModel(), **shared)
    two = live_server(InstantChatModel(), **shared)

    first = ask(one, RETURNS)
    assert first["mode"] == "canonical" and not first["cached"]
    # the other replica answers the same question from the shared cache
    again = ask(two, RETURNS)
    assert again["cached"] and again["answer"] == first["answer"]
    # a conversation started on one continues on the other (the session is in PostgreSQL)
    session = str(first["session_id"])
    time.sleep(0.5)  # history is written just after the answer
    follow = ask(two, "and for sale items?", session)
    assert follow["session_id"] == session

    # a version published by ingest is served by both without a restart
    path = faq_dir / "returns.md"
    path.write_text(path.read_text().replace("30 days", "45 days"), encoding="utf-8")
    assert make_pipeline().run([faq_dir]).published
    for base in (one, two):
        deadline = time.monotonic() + 10
        while "45 days" not in str(ask(base, RETURNS)["answer"]):
            assert time.monotonic() < deadline, f"{base} still serves the old version"
            time.sleep(0.2)


def test_serve_with_two_workers_answers_and_refuses_a_metrics_port(
    faq_dir: Path,
    make_pipeline: Callable[..., IngestPipeline],
    chat_settings: object,
    redis_url: str,
    tmp_path: Path,
) -> None:
    import os
    import subprocess
    import sys

    from service.config import Settings
    from tests.live_server import free_port, wait_until_ready

    assert isinstance(chat_settings, Settings)
    make_pipeline().run([faq_dir])
    port = free_port()
    env = {
        **os.environ,
        "FAQBOT_INDEX__PATH": str(chat_settings.index.path),
        "FAQBOT_DB__URL": chat_settings.db.url,
        "FAQBOT_REDIS__URL": redis_url,
        "FAQBOT_ORDERS__ENABLED": "false",
    }
    faqbot = [sys.executable, "-m", "cli.main"]
    refused = subprocess.run(
        [*faqbot, "serve", "--workers", "2", "--port", str(port)],
        env={**env, "FAQBOT_METRICS__PORT": "9109"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and "--workers 1" in refused.stdout
    server = subprocess.Popen(
        [*faqbot, "serve", "--workers", "2", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "serve.log", "w"),  # noqa: SIM115 - closed with the process
    )
    try:
        try:
            wait_until_ready(f"http://127.0.0.1:{port}", server, 120)
        except RuntimeError as exc:
            pytest.fail(f"{exc}\n{(tmp_path / 'serve.log').read_text()}")
        answers = [ask(f"http://127.0.0.1:{port}", RETURNS) for _ in range(4)]
        assert all("30 days" in str(a["answer"]) for a in answers)
        assert any(a["cached"] for a in answers[1:])  # shared through Redis
        log = (tmp_path / "serve.log").read_text()
        assert log.count("Started server process") >= 2 or "Started parent process" in log
    finally:
        server.terminate()
        server.wait(timeout=30)
