"""A rollback changes what is live, not the markdown: the next publish would quietly put
back what was rolled back. The dry run and the replay say so first, naming the entries;
after a publish the notice is gone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.pipeline import IngestPipeline

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_after_a_rollback_the_dry_run_names_what_would_come_back(
    faq_dir: Path, make_pipeline: Callable[..., IngestPipeline], tmp_path: Path
) -> None:
    first = make_pipeline().run([faq_dir])
    shipping = faq_dir / "shipping.md"
    shipping.write_text(
        shipping.read_text(encoding="utf-8").replace(
            "otherwise 4.95 euros", "otherwise 9.95 euros"
        ),
        encoding="utf-8",
    )
    second = make_pipeline().run([faq_dir])
    store = make_pipeline().store
    assert store.rollback() == (second.version, first.version)
    assert store.rolled_back_from() == second.version

    env = {**os.environ, "FAQBOT_INDEX__PATH": str(tmp_path / "index")}

    def ingest(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", "ingest", str(faq_dir), *extra],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    dry = ingest("--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"is a rollback of {second.version}" in dry.stdout
    assert "(shipping-cost)" in dry.stdout and "publishing puts that back live" in dry.stdout
    # the console's preview reads the replay's JSON: the warning is in it
    replayed = ingest("--replay", "--json")
    assert replayed.returncode == 0, replayed.stderr
    notice = json.loads(replayed.stdout.strip().splitlines()[-1])["rollback_notice"]
    assert notice is not None and "(shipping-cost)" in notice
    # publishing on purpose is allowed; afterwards nothing is rolled back any more
    assert make_pipeline().run([faq_dir]).published
    assert store.rolled_back_from() is None
    assert "rollback" not in ingest("--dry-run").stdout


def test_no_notice_when_the_files_were_mended_after_the_rollback(
    faq_dir: Path, make_pipeline: Callable[..., IngestPipeline]
) -> None:
    make_pipeline().run([faq_dir])
    shipping = faq_dir / "shipping.md"
    original = shipping.read_text(encoding="utf-8")
    shipping.write_text(original.replace("4.95 euros", "9.95 euros"), encoding="utf-8")
    make_pipeline().run([faq_dir])
    make_pipeline().store.rollback()
    shipping.write_text(original, encoding="utf-8")  # the editor undid the edit
    assert make_pipeline().run([faq_dir], dry_run=True).rollback_notice is None
