"""Delivers recorded requests in the background: at once when one is recorded, and every
few seconds for the retries that come due. A failing pass is logged and the loop goes on;
the requests wait in the database meanwhile, so nothing is lost when the process stops."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from service.orders.desk import RequestDesk

log = logging.getLogger("faqbot.orders")


class RequestWorker:
    def __init__(self, desk: RequestDesk, poll_s: float = 5.0) -> None:
        self._desk = desk
        self._poll_s = poll_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """A request was recorded: deliver it now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self._desk.deliver_due)
            except Exception:  # the database is down: the requests wait, the loop goes on
                log.warning("order requests: a delivery pass failed", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_s)
            self._wake.clear()
