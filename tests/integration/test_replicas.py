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
from tests.live_server import ask

pytestmark = pytest.mark.integration
RETURNS = "How long do I have to return an item?"


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


def test_serve_with_two_workers_answers_and_adds_up_their_metrics(
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
    port, metrics_port = free_port(), free_port()
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {
        **os.environ,
        "FAQBOT_INDEX__PATH": str(chat_settings.index.path),
        "FAQBOT_DB__URL": chat_settings.db.url,
        "FAQBOT_REDIS__URL": redis_url,
        "FAQBOT_ORDERS__ENABLED": "false",
        "FAQBOT_METRICS__PORT": str(metrics_port),
        "PROMETHEUS_MULTIPROC_DIR": str(shared),
    }
    faqbot = [sys.executable, "-m", "cli.main"]
    server = subprocess.Popen(
        [*faqbot, "serve", "--workers", "2", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "serve.log", "w"),  # noqa: SIM115 - closed with the process
    )
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until_ready(base, server, 120)
        except RuntimeError as exc:
            pytest.fail(f"{exc}\n{(tmp_path / 'serve.log').read_text()}")
        answers = [ask(base, RETURNS) for _ in range(12)]
        assert all("30 days" in str(a["answer"]) for a in answers)
        assert any(a["cached"] for a in answers[1:])  # shared through Redis
        log = (tmp_path / "serve.log").read_text()
        assert log.count("Started server process") >= 2 or "Started parent process" in log
        # Both workers write their counters to the shared folder, and a scrape, of the
        # parent's metrics port or of any worker, adds them up.
        assert len(list(shared.glob("histogram_*.db"))) >= 2
        for url in (f"http://127.0.0.1:{metrics_port}/metrics", f"{base}/metrics"):
            text = httpx.get(url, timeout=10).text
            chat = [
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith("faqbot_http_requests_total{") and 'route="/v1/chat"' in line
            ]
            assert sum(chat) == 12, text[:2000]
    finally:
        server.terminate()
        server.wait(timeout=30)
