"""Replay, publish and roll back from the console: the same code as `faqbot ingest`,
run by an IngestRunner the top layer hands to create_app (cli/console_runner.py calls
the command as a library function in a worker process). The service never imports the
ingest pipeline; the index lock keeps two runs from overlapping."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol

from service.config import Settings


class IngestRunner(Protocol):
    """Runs `faqbot ARGS` with these settings: {"line": ...} for each line it prints,
    then {"exit": code}. Cancelled or timed out, it stops the run."""

    def __call__(self, args: list[str], settings: Settings) -> AsyncIterator[dict[str, Any]]: ...


class NoIngestRunner:
    """An app built without one (a test, a bench): the console says so, in words."""

    async def __call__(self, args: list[str], settings: Settings) -> AsyncIterator[dict[str, Any]]:
        yield {"line": "faqbot: this process cannot publish; start it with `faqbot serve`"}
        yield {"exit": 1}


def ingest_args(
    faq_dir: Path, gate: Path | None, *extra: str, conversations: Path | None = None
) -> list[str]:
    args = ["ingest", str(faq_dir), *extra]
    if gate is not None and gate.is_file():
        args += ["--gate", str(gate)]
    if conversations is not None and conversations.is_file():
        args += ["--gate-conversations", str(conversations)]
    return args


async def run_json(
    runner: IngestRunner, settings: Settings, args: list[str]
) -> tuple[int, dict[str, Any] | None, list[str]]:
    """The exit code, the last JSON object printed (--json), and all other lines."""
    lines: list[str] = []
    code, found = 1, None
    async for event in runner(args, settings):
        if "exit" in event:
            code = int(event["exit"])
        elif event["line"].startswith("{"):
            try:
                found = json.loads(event["line"])
            except json.JSONDecodeError:
                lines.append(event["line"])
        else:
            lines.append(event["line"])
    return code, found, lines
