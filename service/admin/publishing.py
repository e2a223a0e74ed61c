"""Replay, publish and roll back from the console: the same code as `faqbot ingest`,
run as that command in a child process (the service never imports the ingest pipeline;
the index lock keeps two runs from overlapping), its output passed on line by line."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from service.config import Settings

TIMEOUT_S = 900.0  # a full ingest of a large FAQ; ours takes seconds


def ingest_args(
    faq_dir: Path, gate: Path | None, *extra: str, conversations: Path | None = None
) -> list[str]:
    args = ["ingest", str(faq_dir), *extra]
    if gate is not None and gate.is_file():
        args += ["--gate", str(gate)]
    if conversations is not None and conversations.is_file():
        args += ["--gate-conversations", str(conversations)]
    return args


def _settings_file(settings: Settings) -> Path:
    """The service's settings for the child, as a config file only this user can read (the
    environment, which the child inherits, still wins over it, as in the service)."""
    data = settings.model_dump(mode="json", exclude={"compat"})  # secrets masked there
    fd, name = tempfile.mkstemp(prefix="faqbot-settings-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f)
    return Path(name)


async def run_lines(settings: Settings, args: list[str]) -> AsyncIterator[dict[str, Any]]:
    """{"line": ...} for each line the command prints, then {"exit": code}."""
    config = _settings_file(settings)
    try:
        async for event in _run(["--config", str(config), *args]):
            yield event
    finally:
        with contextlib.suppress(OSError):
            config.unlink()


async def _run(args: list[str]) -> AsyncIterator[dict[str, Any]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli.main",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(TIMEOUT_S):
            async for raw in proc.stdout:
                yield {"line": raw.decode("utf-8", "replace").rstrip()}
            code = await proc.wait()
    except (TimeoutError, asyncio.CancelledError):
        proc.kill()
        await proc.wait()
        raise
    yield {"exit": code}


async def run_json(
    settings: Settings, args: list[str]
) -> tuple[int, dict[str, Any] | None, list[str]]:
    """The exit code, the last JSON object printed (--json), and all other lines."""
    lines: list[str] = []
    code, found = 1, None
    async for event in run_lines(settings, args):
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
