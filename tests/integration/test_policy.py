"""Policy numbers have one source of truth, the published FAQ: an editor who changes the
returns window in the FAQ changes what order answers say, and an FAQ without it is
refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ingest.pipeline import IngestError, IngestPipeline
from service.config import Settings
from tests.fakes.instant_model import InstantChatModel
from tests.integration.shop import BOB

pytestmark = pytest.mark.integration


@pytest.fixture
def faq_dir(faq_dir: Path) -> Path:
    """The small FAQ with the returns window changed to 45 days by an editor."""
    returns = faq_dir / "returns.md"
    returns.write_text(
        returns.read_text(encoding="utf-8").replace("within 30 days", "within 45 days"),
        encoding="utf-8",
    )
    return faq_dir


def test_order_answers_quote_the_window_the_faq_states(
    seeded: Settings, make_client: Callable[..., TestClient]
) -> None:
    client = make_client(InstantChatModel())
    r = client.post("/v1/orders/lookup", json={"order_number": BOB["order"], "email": BOB["email"]})
    assert r.status_code == 200, r.text
    assert "(45 days)" in r.json()["returns"]  # the FAQ's number, not the setting's 30


def test_a_faq_without_the_window_is_refused(
    faq_dir: Path, make_pipeline: Callable[..., IngestPipeline]
) -> None:
    returns = faq_dir / "returns.md"
    returns.write_text(
        returns.read_text(encoding="utf-8").replace("within 45 days of delivery", "in time"),
        encoding="utf-8",
    )
    with pytest.raises(IngestError, match='"returns-window" states no returns window'):
        make_pipeline().run([faq_dir])
    (faq_dir / "returns.md").unlink()
    with pytest.raises(IngestError, match='entry "returns-window" is not in the FAQ'):
        make_pipeline().run([faq_dir])


def test_an_index_from_before_the_policy_is_refreshed_without_embedding(
    faq_dir: Path, make_pipeline: Callable[..., IngestPipeline], settings: Settings
) -> None:
    from service.retrieval.store import IndexStore

    first = make_pipeline().run([faq_dir])
    store = IndexStore(settings.index.path)
    old = store.manifest(str(first.version))
    # As an index built by an earlier faqbot: no policy numbers, no dates.
    old.policy = {}
    old.entries = {i: replace(info, updated="") for i, info in old.entries.items()}
    store.write_manifest(old)
    again = make_pipeline().run([faq_dir])
    assert again.published and again.embedded_texts == 0
    assert "index details refreshed" in again.plan.summary()
    assert store.live_manifest().policy == {"returns_window_days": 45}  # type: ignore[union-attr]
    assert not make_pipeline().run([faq_dir]).published  # and then nothing more to do
