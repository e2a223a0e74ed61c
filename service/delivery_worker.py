"""Delivers what was recorded for another system (order requests to the shop's webhook,
handoffs to the helpdesk) in the background: at once when something is recorded, and
every few seconds for the retries that come due. A failing pass is logged and the loop
goes on; the records wait in the database meanwhile, so nothing is lost when the
process stops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

log = logging.getLogger("faqbot")
MAX_WAIT_S = 3600.0


class DeliveryWorker:
    def __init__(self, name: str, deliver_due: Callable[[], int], poll_s: float = 5.0) -> None:
        self._name = name
        self._deliver_due = deliver_due  # blocking: one pass over what is due
        self._poll_s = poll_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def wake(self) -> None:
        """Something was recorded: deliver it now rather than at the next poll. Safe to
        call from the threads the database calls run in."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            self._wake.set()
        else:
            loop.call_soon_threadsafe(self._wake.set)

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self._deliver_due)
            except Exception:  # the database is down: the records wait, the loop goes on
                log.warning("%s: a delivery pass failed", self._name, exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_s)
            self._wake.clear()


def retry_wait(first_s: float, attempt: int) -> float:
    """The wait after failed attempt number ``attempt``: first_s, then twice as long each
    time, at most an hour."""
    return min(MAX_WAIT_S, first_s * 2.0 ** (attempt - 1))


def claim(
    engine: sa.Engine, table: sa.Table, state: sa.Column[Any], row: Any, lease: datetime
) -> bool:
    """Takes a pending record for one attempt: its attempt counted, and not due again
    before ``lease``. False when another worker (a replica) took it first."""
    with engine.begin() as conn:
        return bool(
            conn.execute(
                table.update()
                .where(table.c.id == row.id)
                .where(table.c.attempts == row.attempts)
                .where(state == "pending")
                .values(next_attempt_at=lease, attempts=row.attempts + 1)
            ).rowcount
        )
