"""What the chat needs from a history store: the interface, its values and its errors.
Implementations: SqlChatStore (service/chat/sql_store.py), and an in-memory one for tests."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from service.chat.turn import Action, Mode, Retrieved, SourceRef, Suggestion


@dataclass(frozen=True)
class Shown:
    """What the page showed with an answer besides its text, kept so that a reloaded
    conversation looks as it did, and so that a follow-up knows what was answered."""

    sources: tuple[SourceRef, ...] = ()
    suggestions: tuple[Suggestion, ...] = ()
    action: Action | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Shown:
        """Lenient: rows written before this was kept have nothing."""
        if not isinstance(data, dict):
            return cls()
        return cls(
            tuple(SourceRef(**s) for s in data.get("sources") or []),
            tuple(Suggestion(**s) for s in data.get("suggestions") or []),
            data.get("action"),
        )


@dataclass(frozen=True)
class StoredMessage:
    id: str
    role: str
    content: str
    mode: str | None = None  # the answer's mode; None for the customer's messages
    shown: Shown = field(default_factory=Shown)
    rating: str | None = None  # the customer's vote on an answer, if any

    @property
    def entry_id(self) -> str | None:
        """The entry an answer gave (its first source)."""
        return self.shown.sources[0].id if self.shown.sources else None


@dataclass(frozen=True)
class Exchange:
    """One question and its answer, written together."""

    session_id: str
    question: str
    answer: str
    mode: Mode
    retrieved: tuple[Retrieved, ...]
    index_version: str | None
    answer_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    trace: dict[str, Any] | None = None  # why this answer (service/chat/trace.py)
    shown: Shown = field(default_factory=Shown)


class ChatStoreError(RuntimeError):
    """The history store failed, timed out or is known to be down."""


class UnknownMessage(LookupError):
    pass


class ChatStore(Protocol):
    async def session_exists(self, session_id: str) -> bool: ...

    async def history(self, session_id: str, limit: int) -> list[StoredMessage]:
        """The last `limit` messages of the session, oldest first; answers with what was
        shown with them and their vote."""
        ...

    async def add_exchange(self, exchange: Exchange) -> None:
        """Store the question and the answer, creating the session if needed. Emails and
        postal codes are masked before anything is kept."""
        ...

    async def add_feedback(self, message_id: str, rating: str, comment: str | None) -> None:
        """One vote per answer: a new vote replaces the answer's earlier one. Raises
        UnknownMessage if there is no answer with that id."""
        ...

    async def vote(self, message_id: str) -> tuple[str, str | None] | None:
        """The answer's vote in force (rating, masked comment), if any."""
        ...

    async def ping(self) -> None: ...

    async def purge(self, older_than: datetime) -> int:
        """Delete messages, feedback and empty sessions older than that; returns rows."""
        ...
