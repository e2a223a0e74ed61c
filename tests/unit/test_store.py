from __future__ import annotations

from pathlib import Path

import pytest

from service.retrieval.store import (
    IndexStore,
    IndexStoreError,
    IngestLocked,
    Manifest,
)


def finished(store: IndexStore, version: str) -> str:
    store.write_manifest(
        Manifest(
            version=version, created="now", model_id="m", dimension=3, schema_version=1, records=0
        )
    )
    return version


def test_publish_keeps_history_and_rollback_swaps(tmp_path: Path) -> None:
    store = IndexStore(tmp_path, keep_versions=2)
    assert store.pointer().current is None
    store.publish(finished(store, "v000001"))
    store.publish(finished(store, "v000002"))
    assert store.pointer().history == ("v000002", "v000001")
    assert store.rollback() == ("v000002", "v000001")
    assert store.pointer().current == "v000001"
    # a second rollback undoes the first
    assert store.rollback() == ("v000001", "v000002")


def test_rollback_without_a_previous_version_is_refused(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    with pytest.raises(IndexStoreError, match="nothing to roll back"):
        store.rollback()
    store.publish(finished(store, "v000001"))
    with pytest.raises(IndexStoreError, match="nothing to roll back"):
        store.rollback()


def test_unfinished_versions_are_never_published_and_are_garbage(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    store.publish(finished(store, "v000001"))
    (tmp_path / "versions" / "v000002").mkdir(parents=True)  # a killed run's leftovers
    with pytest.raises(IndexStoreError, match="unfinished"):
        store.publish("v000002")
    assert store.garbage_versions() == ["v000002"]
    assert store.new_version_id() == "v000003"


def test_old_versions_fall_out_of_history(tmp_path: Path) -> None:
    store = IndexStore(tmp_path, keep_versions=2)
    for n in range(1, 4):
        store.publish(finished(store, f"v00000{n}"))
    assert store.pointer().history == ("v000003", "v000002")
    assert store.garbage_versions() == ["v000001"]


def test_second_lock_is_refused_with_the_holder_named(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    with (
        store.lock(),
        pytest.raises(IngestLocked, match=r"another ingest is running .*pid \d+"),
        IndexStore(tmp_path).lock(),
    ):
        pass
    with store.lock():  # released after the first holder is done
        pass


def test_require_live_explains_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(IndexStoreError, match="faqbot ingest data/faq"):
        IndexStore(tmp_path).require_live()
