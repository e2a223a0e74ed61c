"""The console's ingest runs as a library call in a worker process (cli/console_runner.py):
its lines come back as they are printed, with the service's own settings; a timeout or
a cancelled request kills the worker, and an app built without a runner says so."""

from __future__ import annotations

import asyncio
import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from cli.console_runner import WorkerIngestRunner
from service.admin.publishing import NoIngestRunner
from service.config import Settings
from service.retrieval.schema import POINTER_FILE

pytestmark = pytest.mark.integration


async def collect(runner: Any, args: list[str], settings: Settings) -> list[dict[str, Any]]:
    return [event async for event in runner(args, settings)]


def test_a_publish_reports_its_lines_and_uses_the_settings_it_is_handed(
    settings: Settings, faq_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the worker inherits this environment; it must still use the settings object,
    # which is what the service runs with (config file and environment already applied)
    elsewhere = tmp_path / "elsewhere"
    monkeypatch.setenv("FAQBOT_INDEX__PATH", str(elsewhere))
    events = asyncio.run(collect(WorkerIngestRunner(), ["ingest", str(faq_dir)], settings))
    assert events[-1] == {"exit": 0}, events
    lines = [e["line"] for e in events[:-1]]
    assert any("published" in line for line in lines), lines
    assert (settings.index.path / POINTER_FILE).is_file()
    assert not elsewhere.exists()


def test_a_failing_command_exits_non_zero_with_its_words(
    settings: Settings, tmp_path: Path
) -> None:
    events = asyncio.run(
        collect(WorkerIngestRunner(), ["ingest", str(tmp_path / "missing")], settings)
    )
    assert events[-1]["exit"] != 0
    assert any("missing" in e.get("line", "") for e in events[:-1])


def test_a_run_past_its_timeout_is_killed(settings: Settings, faq_dir: Path) -> None:
    with pytest.raises(TimeoutError):
        asyncio.run(collect(WorkerIngestRunner(timeout_s=0.05), ["ingest", str(faq_dir)], settings))
    assert not [p for p in multiprocessing.active_children() if p.name == "faqbot-ingest"]
    assert not (settings.index.path / POINTER_FILE).exists()


def test_a_cancelled_run_is_killed(settings: Settings, faq_dir: Path) -> None:
    async def cancel_after_first_line() -> None:
        events = WorkerIngestRunner()(["ingest", str(faq_dir)], settings)
        await anext(events)
        await events.aclose()  # the request went away: the generator is closed

    asyncio.run(cancel_after_first_line())
    assert not [p for p in multiprocessing.active_children() if p.name == "faqbot-ingest"]


def test_without_a_runner_the_console_says_it_cannot_publish(settings: Settings) -> None:
    events = asyncio.run(collect(NoIngestRunner(), ["ingest", "x"], settings))
    assert events[-1] == {"exit": 1} and "cannot publish" in events[0]["line"]
