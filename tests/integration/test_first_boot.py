"""First boot, before any ingest, and a vector server that is not up yet: the service
starts, says in /readyz and /metrics what is missing and what to run, and answers chat
with a 503 at once, without loading anything it would not use."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from tests.fakes.instant_model import InstantChatModel

pytestmark = pytest.mark.integration


def _client(settings: Settings) -> Iterator[TestClient]:
    from service.app import create_app

    model = InstantChatModel()
    with TestClient(create_app(settings, model=model)) as client:
        yield client
    assert model.prompts == []  # nothing was ever worth asking the model


@pytest.fixture
def empty(chat_settings: Settings) -> Iterator[TestClient]:
    """The embedded defaults on an index folder nobody has ingested into."""
    s = chat_settings.model_copy(
        update={"metrics": chat_settings.metrics.model_copy(update={"public": True})}
    )
    yield from _client(s)


def test_before_the_first_ingest_readiness_says_what_to_run(empty: TestClient) -> None:
    ready = empty.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["index"] == "down"
    assert ready.json()["reasons"]["index"] == "no index yet: run `faqbot ingest`"
    assert empty.get("/healthz").status_code == 200  # alive: the process needs no restart
    metrics = empty.get("/metrics").text
    assert "faqbot_index_ready 0.0" in metrics


@pytest.mark.parametrize("path", ["/v1/chat", "/v1/chat/stream"])
def test_before_the_first_ingest_chat_is_a_clear_503(empty: TestClient, path: str) -> None:
    r = empty.post(path, json={"message": "How long do I have to return an item?"})
    if path == "/v1/chat":
        assert r.status_code == 503
        assert r.json() == {"detail": "the FAQ index is not ready"}
    else:  # the stream's status is sent before the answer: the error is its one event
        assert '"status": 503' in r.text and "not ready" in r.text


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends


def test_the_service_starts_while_the_chroma_server_is_down(
    chat_settings: Settings, tmp_path: Path
) -> None:
    index = chat_settings.index.model_copy(update={"host": "127.0.0.1", "port": _closed_port()})
    for client in _client(chat_settings.model_copy(update={"index": index})):
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["index"] == "down"
        assert ready.json()["checks"]["database"] == "ok"
        r = client.post("/v1/chat", json={"message": "Can I return sale items?"})
        assert r.status_code == 503
