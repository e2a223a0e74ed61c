"""A published version that does not load (truncated manifest, garbage classifier or
lexical files) is reported by name, in /readyz and /metrics, and the service keeps
answering from the version it has, or at start from the newest earlier one that loads."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ingest.pipeline import IngestPipeline
from service.config import Settings
from service.retrieval.schema import CLASSIFIER_FILE, LEXICAL_DIR, MANIFEST_FILE
from service.retrieval.store import IndexStore
from tests.fakes.instant_model import InstantChatModel

pytestmark = pytest.mark.integration
RETURNS = "How long do I have to return an item?"


def publish_second_version(faq_dir: Path, make_pipeline: Callable[..., IngestPipeline]) -> None:
    extra = faq_dir / "extra.md"
    extra.write_text(
        "## Do you gift wrap? {#gift-wrap}\nNo, we do not gift wrap orders.\n", encoding="utf-8"
    )
    make_pipeline().run([faq_dir])


def damage(folder: Path, how: str) -> None:
    if how == "manifest":
        path = folder / MANIFEST_FILE
        path.write_text(path.read_text(encoding="utf-8")[:200], encoding="utf-8")
    elif how == "classifier":
        (folder / CLASSIFIER_FILE).write_bytes(b"\x93NUMPY garbage" * 10)
    else:
        for f in (folder / LEXICAL_DIR).iterdir():
            f.write_bytes(b"garbage")


@pytest.mark.parametrize("how", ["manifest", "classifier", "lexical"])
def test_a_damaged_new_version_is_not_served_and_readiness_says_so(
    make_client: Callable[..., TestClient],
    faq_dir: Path,
    chat_settings: Settings,
    make_pipeline: Callable[..., IngestPipeline],
    how: str,
) -> None:
    client = make_client(InstantChatModel(), metrics={"public": True})
    first = client.post("/v1/chat", json={"message": RETURNS}).json()
    assert client.get("/readyz").json()["checks"]["index"] == "ok"
    publish_second_version(faq_dir, make_pipeline)
    store = IndexStore(chat_settings.index.path)
    broken = store.pointer().current
    assert broken is not None
    damage(store.version_dir(broken), how)
    time.sleep(1.1)  # the service looks at the pointer once a second
    r = client.post("/v1/chat", json={"message": RETURNS})
    assert r.status_code == 200 and r.json()["answer"] == first["answer"]
    ready = client.get("/readyz")
    body = ready.json()
    assert ready.status_code == 200 and body["checks"]["index"] == "degraded"
    assert broken in body["reasons"]["index"] and "serving" in body["reasons"]["index"]
    assert str(chat_settings.index.path) not in body["reasons"]["index"]  # no paths in public
    metrics = client.get("/metrics").text
    assert "faqbot_index_degraded 1.0" in metrics
    assert "faqbot_index_load_failures_total 1.0" in metrics


def test_at_start_the_newest_earlier_version_that_loads_is_served(
    make_client: Callable[..., TestClient],
    faq_dir: Path,
    chat_settings: Settings,
    make_pipeline: Callable[..., IngestPipeline],
) -> None:
    make_pipeline().run([faq_dir])  # v1 (make_client publishes it again: a no-op)
    publish_second_version(faq_dir, make_pipeline)
    store = IndexStore(chat_settings.index.path)
    broken = store.pointer().current
    assert broken is not None
    damage(store.version_dir(broken), "classifier")
    client = make_client(InstantChatModel())
    r = client.post("/v1/chat", json={"message": RETURNS})
    assert r.status_code == 200 and r.json()["mode"] != "abstained"
    body = client.get("/readyz").json()
    assert body["checks"]["index"] == "degraded" and broken in body["reasons"]["index"]


def test_no_index_yet_is_a_503_and_readiness_says_what_to_run(chat_settings: Settings) -> None:
    from service.app import create_app

    empty = chat_settings.model_copy(
        update={"index": chat_settings.index.model_copy(update={"path": Path("/nonexistent/x")})}
    )
    with TestClient(create_app(empty, model=InstantChatModel())) as client:
        r = client.post("/v1/chat", json={"message": RETURNS})
        assert r.status_code == 503 and "not ready" in r.json()["detail"]
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["reasons"]["index"] == "no index yet: run `faqbot ingest`"
