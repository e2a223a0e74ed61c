"""The console's replay, publish and rollback: `faqbot ingest` called as a library
function in a worker process, wired into the service by `faqbot serve`.

A worker process, not a thread: an ingest embeds and trains for seconds to minutes, holds
the index lock, and may be killed at its timeout without taking the service with it.
The worker gets the service's own Settings object (pickled, secrets intact), not a
config file written for it, and sends back each line the command prints."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import sys
from collections.abc import AsyncIterator, Sequence
from multiprocessing.connection import Connection
from typing import Any

from service.config import Settings

TIMEOUT_S = 900.0  # a full ingest of a large FAQ; ours takes seconds


class WorkerIngestRunner:
    """service.admin.publishing.IngestRunner: lines ({"line"}), then {"exit": code}."""

    def __init__(self, timeout_s: float = TIMEOUT_S) -> None:
        self._timeout_s = timeout_s
        self._context = multiprocessing.get_context("spawn")  # no forked event loop

    async def __call__(self, args: list[str], settings: Settings) -> AsyncIterator[dict[str, Any]]:
        reader, writer = self._context.Pipe(duplex=False)
        worker = self._context.Process(
            target=work, args=(list(args), settings, writer), name="faqbot-ingest", daemon=True
        )
        worker.start()
        writer.close()  # the worker holds the only write end: its exit ends the reads
        try:
            async with asyncio.timeout(self._timeout_s):
                while (message := await asyncio.to_thread(_receive, reader)) is not None:
                    yield {"line": message}
                await asyncio.to_thread(worker.join)
        finally:
            # timed out, cancelled, or the request went away (the generator closed): the
            # index stays as it was, since a version is published whole
            if worker.is_alive():
                worker.kill()
                worker.join(5)
            reader.close()
        yield {"exit": worker.exitcode if worker.exitcode is not None else 1}


def _receive(reader: Connection) -> str | None:
    try:
        return str(reader.recv())
    except EOFError:
        return None


def work(args: Sequence[str], settings: Settings, writer: Connection) -> None:
    """In the worker: the command's output goes line by line to the service."""
    from cli.main import main

    lines = _LineSender(writer)
    sys.stdout = sys.stderr = lines
    try:
        code = main(list(args), settings=settings)
    except BaseException as exc:  # the service must hear why, not see a silent exit
        print(f"faqbot: {type(exc).__name__}: {exc}", file=lines)
        code = 1
    finally:
        lines.flush()
        with contextlib.suppress(OSError):
            writer.close()
    sys.exit(code)


class _LineSender:
    """A text stream whose complete lines are sent over the pipe."""

    def __init__(self, writer: Connection) -> None:
        self._writer = writer
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        *complete, self._pending = self._pending.split("\n")
        for line in complete:
            self._writer.send(line.rstrip("\r"))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._writer.send(self._pending)
            self._pending = ""

    def isatty(self) -> bool:
        return False
