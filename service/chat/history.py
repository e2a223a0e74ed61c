"""Chat history off the answer's critical path.

Answers are sent first; the exchange is written afterwards by one background task, in
order, retried while the database is slow or locked. An exchange that cannot be written
after every retry is logged as an error with its ids: lost loudly, never silently. Until
it is written, its session counts as known and its turns are served from memory, so a
follow-up sent at once still finds its history.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import OrderedDict

from service.chat.store import ChatStore, ChatStoreError, Exchange, StoredMessage

log = logging.getLogger("faqbot.chat.history")


def new_session_id() -> str:
    """Sessions are bearer tokens: 128 random bits, minted here, never chosen by a client."""
    return secrets.token_hex(16)


class HistoryWriter:
    def __init__(
        self,
        store: ChatStore,
        *,
        max_pending: int = 10_000,
        retries: int = 5,
        retry_delay_s: float = 0.5,
        remember_sessions: int = 100_000,
    ) -> None:
        self._store = store
        self._max_pending = max_pending
        self._queue: asyncio.Queue[Exchange] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: dict[str, list[Exchange]] = {}
        self._written: dict[str, asyncio.Event] = {}
        self._retries = retries
        self._delay = retry_delay_s
        self._minted: OrderedDict[str, None] = OrderedDict()
        self._remember = remember_sessions
        self._task: asyncio.Task[None] | None = None
        self.lost = 0

    # -- sessions ------------------------------------------------------------------------
    def mint_session(self) -> str:
        session = new_session_id()
        self._minted[session] = None
        while len(self._minted) > self._remember:
            self._minted.popitem(last=False)
        return session

    def knows(self, session_id: str) -> bool:
        """Minted by this process, or with turns waiting to be written."""
        return session_id in self._minted or session_id in self._pending

    def pending_turns(self, session_id: str) -> list[StoredMessage]:
        turns: list[StoredMessage] = []
        for e in self._pending.get(session_id, []):
            turns.append(StoredMessage(f"q-{e.answer_id}", "user", e.question))
            turns.append(StoredMessage(e.answer_id, "assistant", e.answer, e.mode, e.shown))
        return turns

    # -- writing -------------------------------------------------------------------------
    def _queue_here(self) -> asyncio.Queue[Exchange]:
        """The queue of the running event loop (one per loop: a queue cannot move)."""
        loop = asyncio.get_running_loop()
        if self._queue is None or self._loop is not loop:
            self._queue, self._loop, self._task = asyncio.Queue(self._max_pending), loop, None
        return self._queue

    def submit(self, exchange: Exchange) -> None:
        queue = self._queue_here()
        try:
            queue.put_nowait(exchange)
        except asyncio.QueueFull:
            self.lost += 1
            log.error(
                "chat history lost: write queue full (session %s, message %s)",
                exchange.session_id,
                exchange.answer_id,
            )
            return
        self._pending.setdefault(exchange.session_id, []).append(exchange)
        self._written[exchange.answer_id] = asyncio.Event()
        self._ensure_worker()

    async def settled(self, answer_id: str, timeout_s: float) -> None:
        """Wait until the exchange with this answer id is written (or given up on)."""
        event = self._written.get(answer_id)
        if event is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout_s)

    def _ensure_worker(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._work(self._queue_here()))

    async def _work(self, queue: asyncio.Queue[Exchange]) -> None:
        while True:
            exchange = await queue.get()
            try:
                await self._write(exchange)
            finally:
                self._done(exchange)
                queue.task_done()

    async def _write(self, exchange: Exchange) -> None:
        for attempt in range(1, self._retries + 1):
            try:
                await self._store.add_exchange(exchange)
                return
            except ChatStoreError as exc:
                if attempt == self._retries:
                    self.lost += 1
                    log.error(
                        "chat history lost after %d attempts (session %s, message %s): %s",
                        attempt,
                        exchange.session_id,
                        exchange.answer_id,
                        exc,
                    )
                    return
                await asyncio.sleep(self._delay * attempt)
            except Exception:  # a bug must not kill the writer for every later exchange
                self.lost += 1
                log.exception("chat history lost (message %s)", exchange.answer_id)
                return

    def _done(self, exchange: Exchange) -> None:
        turns = self._pending.get(exchange.session_id, [])
        if exchange in turns:
            turns.remove(exchange)
        if not turns:
            self._pending.pop(exchange.session_id, None)
        event = self._written.pop(exchange.answer_id, None)
        if event is not None:
            event.set()

    async def drain(self, timeout_s: float) -> None:
        """On shutdown: give the queued writes a last chance, then stop."""
        if self._task is None or self._queue is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), timeout_s)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        left = self._queue.qsize()
        self._queue = None
        if left:
            self.lost += left
            log.error("chat history lost at shutdown: %d exchanges not written", left)
