"""Sessions and their history as one turn sees them: which session a message continues,
its recent turns, and saving the exchange after the answer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TypeVar

from service.chat.history import HistoryWriter
from service.chat.prompt import Turn
from service.chat.store import ChatStore, ChatStoreError, Exchange, StoredMessage

log = logging.getLogger("faqbot.chat")
T = TypeVar("T")


class Conversations:
    def __init__(
        self, store: ChatStore, writer: HistoryWriter, *, timeout_s: float, history_turns: int
    ) -> None:
        self._store = store
        self.writer = writer
        self._timeout_s = timeout_s
        self._limit = 2 * history_turns  # messages: a question and an answer per turn

    async def resolve(self, session_id: str | None) -> tuple[str, bool]:
        """The session to continue and whether it is known. An id the server never
        minted (or one that expired) starts a new session with a new id: ids are bearer
        tokens, and one chosen by a client could be shared or guessed."""
        if session_id:
            if self.writer.knows(session_id):
                return session_id, True
            if await self._stored(self._store.session_exists(session_id)):
                return session_id, True
        return self.writer.mint_session(), False

    async def turns(self, session_id: str, known: bool) -> list[Turn]:
        """The recent turns, stored and still being written; none when the store is down
        (the answer goes on without history rather than failing)."""
        if not known or not self._limit:
            return []
        stored = await self._stored(self._store.history(session_id, self._limit)) or []
        merged = _merge(stored, self.writer.pending_turns(session_id))
        return [Turn(m.role, m.content, m.entry_id) for m in merged[-self._limit :]]

    async def messages(self, session_id: str, limit: int = 100) -> list[StoredMessage] | None:
        """The session's messages for the chat page after a reload; None if there is no
        such session. Raises ChatStoreError when the store is down (the page says so)."""
        pending = self.writer.pending_turns(session_id)
        if not pending and not await self._store.session_exists(session_id):
            return None
        stored = await self._store.history(session_id, limit)
        return _merge(stored, pending)[-limit:]

    def save(self, exchange: Exchange) -> None:
        """Written after the answer is on its way: a slow or locked database must not
        hold the customer's answer."""
        self.writer.submit(exchange)

    async def _stored(self, call: Awaitable[T]) -> T | None:
        try:
            return await asyncio.wait_for(call, timeout=self._timeout_s)
        except (ChatStoreError, TimeoutError) as exc:
            log.warning("chat store unavailable (%s); answering without it", exc)
            return None


def _merge(stored: list[StoredMessage], pending: list[StoredMessage]) -> list[StoredMessage]:
    """Stored messages, then the ones still being written. An exchange can be in both for
    a moment (written, not yet taken off the queue): its answer id tells."""
    written = {m.id for m in stored}
    fresh: list[StoredMessage] = []
    for question, answer in zip(pending[::2], pending[1::2], strict=True):
        if answer.id not in written:
            fresh += [question, answer]
    return [*stored, *fresh]
