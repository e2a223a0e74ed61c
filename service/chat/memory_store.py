"""An in-memory ChatStore, under the same contract as the SQL one (tests/contracts):
masks what it keeps, creates sessions with their first exchange, purges by age. For
tests, and for `faqbot eval --answers`, which needs no history kept."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from service.chat.store import ChatStoreError, Exchange, StoredMessage, UnknownMessage
from service.privacy import mask_pii


@dataclass
class _Message:
    message: StoredMessage
    session_id: str
    created_at: datetime


class MemoryChatStore:
    def __init__(self, public: Iterable[str] = ()) -> None:
        self._public = frozenset(public)  # the shop's own contact, kept unmasked
        self.sessions: dict[str, datetime] = {}
        self.messages: list[_Message] = []
        self.feedback: list[dict[str, object]] = []
        self.down = False  # set to make every call fail, as a broken database would

    def _check(self) -> None:
        if self.down:
            raise ChatStoreError("memory store is down")

    async def session_exists(self, session_id: str) -> bool:
        self._check()
        return session_id in self.sessions

    async def history(self, session_id: str, limit: int) -> list[StoredMessage]:
        self._check()
        votes = {f["message_id"]: str(f["rating"]) for f in self.feedback}
        mine = [
            replace(m.message, rating=votes.get(m.message.id))
            for m in self.messages
            if m.session_id == session_id
        ]
        return mine[-limit:] if limit > 0 else []

    async def add_exchange(self, exchange: Exchange) -> None:
        self._check()
        self.sessions.setdefault(exchange.session_id, exchange.created_at)
        for message in (
            StoredMessage(f"q-{exchange.answer_id}", "user", mask_pii(exchange.question)),
            StoredMessage(
                exchange.answer_id,
                "assistant",
                mask_pii(exchange.answer, self._public),
                exchange.mode,
                exchange.shown,
            ),
        ):
            self.messages.append(_Message(message, exchange.session_id, exchange.created_at))

    async def add_feedback(self, message_id: str, rating: str, comment: str | None) -> None:
        self._check()
        answers = [m for m in self.messages if m.message.id == message_id]
        if not answers or answers[0].message.role != "assistant":
            raise UnknownMessage(message_id)
        self.feedback = [f for f in self.feedback if f["message_id"] != message_id]
        self.feedback.append(
            {
                "message_id": message_id,
                "rating": rating,
                "comment": mask_pii(comment) if comment else comment,
                "created_at": datetime.now(UTC),
            }
        )

    async def vote(self, message_id: str) -> tuple[str, str | None] | None:
        self._check()
        for f in self.feedback:
            if f["message_id"] == message_id:
                return str(f["rating"]), f["comment"]  # type: ignore[return-value]
        return None

    async def ping(self) -> None:
        self._check()

    async def purge(self, older_than: datetime) -> int:
        self._check()
        before = len(self.messages) + len(self.feedback) + len(self.sessions)
        self.messages = [m for m in self.messages if m.created_at >= older_than]
        kept = {m.message.id for m in self.messages}
        # Feedback goes with its answer, as the SQL store's foreign key cascades.
        self.feedback = [
            f
            for f in self.feedback
            if f["created_at"] >= older_than and f["message_id"] in kept  # type: ignore[operator]
        ]
        alive = {m.session_id for m in self.messages}
        self.sessions = {s: t for s, t in self.sessions.items() if t >= older_than or s in alive}
        return before - (len(self.messages) + len(self.feedback) + len(self.sessions))
