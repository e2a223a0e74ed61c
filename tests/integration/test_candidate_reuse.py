"""Publish after a preview publishes the version the preview built, when the sources,
the settings and the live version are still what it was built from: no second build.
Anything else builds anew. Real embedder, real Chroma."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.pipeline import IngestPipeline

pytestmark = pytest.mark.integration


def _edit(faq_dir: Path, old: str, new: str) -> None:
    shipping = faq_dir / "shipping.md"
    shipping.write_text(shipping.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def test_the_previewed_candidate_is_published_without_a_second_build(
    faq_dir: Path, make_pipeline: Callable[..., IngestPipeline]
) -> None:
    make_pipeline().run([faq_dir])
    _edit(faq_dir, "4.95 euros", "5.95 euros")
    preview = make_pipeline().run([faq_dir], publish=False)
    assert preview.version is not None and not preview.published
    publish = make_pipeline().run([faq_dir])
    assert publish.reused_candidate and publish.published
    assert publish.version == preview.version and publish.embedded_texts == 0
    store = make_pipeline().store
    assert store.pointer().current == preview.version and store.candidate() is None


def test_a_candidate_of_other_sources_or_another_live_version_is_not_reused(
    faq_dir: Path, make_pipeline: Callable[..., IngestPipeline]
) -> None:
    make_pipeline().run([faq_dir])
    _edit(faq_dir, "4.95 euros", "5.95 euros")
    stale = make_pipeline().run([faq_dir], publish=False)
    _edit(faq_dir, "5.95 euros", "6.95 euros")  # edited again after the preview
    fresh = make_pipeline().run([faq_dir])
    assert not fresh.reused_candidate and fresh.version != stale.version
    assert stale.version not in {p.name for p in (faq_dir.parent / "index" / "versions").iterdir()}
    # a preview, then another publish moves the live version: the preview's base is gone
    _edit(faq_dir, "6.95 euros", "7.95 euros")
    make_pipeline().run([faq_dir], publish=False)
    _edit(faq_dir, "7.95 euros", "8.95 euros")
    make_pipeline().run([faq_dir])
    _edit(faq_dir, "8.95 euros", "7.95 euros")  # the preview's sources again, new base
    assert not make_pipeline().run([faq_dir]).reused_candidate
    # and --rebuild always builds
    _edit(faq_dir, "7.95 euros", "9.95 euros")
    make_pipeline().run([faq_dir], publish=False)
    assert not make_pipeline().run([faq_dir], rebuild=True).reused_candidate
