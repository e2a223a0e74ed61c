"""Chat sessions, messages and feedback in SQL (SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa

from service.db.tables import chat_messages, chat_sessions, feedback


@dataclass(frozen=True)
class StoredMessage:
    id: str
    role: str
    content: str


class UnknownMessage(LookupError):
    pass


class ChatStore(Protocol):
    async def ensure_session(self, session_id: str | None) -> str: ...

    async def history(self, session_id: str, limit: int) -> list[StoredMessage]: ...

    async def add_exchange(
        self,
        session_id: str,
        question: str,
        answer: str,
        mode: str,
        retrieved: list[dict[str, Any]],
        index_version: str | None,
    ) -> str:
        """Store the question and the answer; returns the answer's message id."""
        ...

    async def add_feedback(self, message_id: str, rating: str, comment: str | None) -> None: ...

    async def ping(self) -> None: ...


def make_engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        # One file, many threads: the calls below run in a worker thread pool.
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL lets readers work while a write commits; synchronous=NORMAL drops an
            # fsync per commit (a power cut may lose the last turns, never corrupt the file).
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    # No pool_pre_ping: it costs a round trip per checkout (measured: order lookup p95
    # 5.3 -> see docs/benchmarks.md). A connection the server dropped fails once, is
    # discarded by the pool, and the caller's "temporarily unavailable" path covers it.
    return sa.create_engine(url, pool_size=5, max_overflow=5, pool_recycle=1800)


def _now() -> datetime:
    return datetime.now(UTC)


class SqlChatStore:
    """Blocking SQLAlchemy calls moved off the event loop with asyncio.to_thread."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    async def ensure_session(self, session_id: str | None) -> str:
        return await asyncio.to_thread(self._ensure_session, session_id)

    def _ensure_session(self, session_id: str | None) -> str:
        with self._engine.begin() as conn:
            if session_id:
                found = conn.execute(
                    sa.select(chat_sessions.c.id).where(chat_sessions.c.id == session_id)
                ).first()
                if found:
                    return session_id
            new_id = session_id or uuid.uuid4().hex
            conn.execute(chat_sessions.insert().values(id=new_id, created_at=_now()))
            return new_id

    async def history(self, session_id: str, limit: int) -> list[StoredMessage]:
        return await asyncio.to_thread(self._history, session_id, limit)

    def _history(self, session_id: str, limit: int) -> list[StoredMessage]:
        if limit <= 0:
            return []
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(chat_messages.c.id, chat_messages.c.role, chat_messages.c.content)
                .where(chat_messages.c.session_id == session_id)
                .order_by(chat_messages.c.created_at.desc(), chat_messages.c.role.asc())
                .limit(limit)
            ).all()
        return [StoredMessage(r.id, r.role, r.content) for r in reversed(rows)]

    async def add_exchange(
        self,
        session_id: str,
        question: str,
        answer: str,
        mode: str,
        retrieved: list[dict[str, Any]],
        index_version: str | None,
    ) -> str:
        return await asyncio.to_thread(
            self._add_exchange, session_id, question, answer, mode, retrieved, index_version
        )

    def _add_exchange(
        self,
        session_id: str,
        question: str,
        answer: str,
        mode: str,
        retrieved: list[dict[str, Any]],
        index_version: str | None,
    ) -> str:
        now = _now()
        answer_id = uuid.uuid4().hex
        with self._engine.begin() as conn:
            conn.execute(
                chat_messages.insert(),
                [
                    {
                        "id": uuid.uuid4().hex,
                        "session_id": session_id,
                        "role": "user",
                        "content": question,
                        "mode": None,
                        "retrieved": retrieved,
                        "index_version": index_version,
                        "created_at": now,
                    },
                    {
                        "id": answer_id,
                        "session_id": session_id,
                        "role": "assistant",
                        "content": answer,
                        "mode": mode,
                        "retrieved": retrieved,
                        "index_version": index_version,
                        "created_at": now,
                    },
                ],
            )
        return answer_id

    async def add_feedback(self, message_id: str, rating: str, comment: str | None) -> None:
        await asyncio.to_thread(self._add_feedback, message_id, rating, comment)

    def _add_feedback(self, message_id: str, rating: str, comment: str | None) -> None:
        with self._engine.begin() as conn:
            answer = conn.execute(
                sa.select(chat_messages).where(
                    chat_messages.c.id == message_id, chat_messages.c.role == "assistant"
                )
            ).first()
            if answer is None:
                raise UnknownMessage(message_id)
            question = conn.execute(
                sa.select(chat_messages.c.content)
                .where(
                    chat_messages.c.session_id == answer.session_id,
                    chat_messages.c.role == "user",
                    chat_messages.c.created_at <= answer.created_at,
                )
                .order_by(chat_messages.c.created_at.desc())
                .limit(1)
            ).scalar_one()
            conn.execute(
                feedback.insert().values(
                    message_id=message_id,
                    rating=rating,
                    comment=comment,
                    question=question,
                    retrieved=answer.retrieved,
                    created_at=_now(),
                )
            )

    async def ping(self) -> None:
        await asyncio.to_thread(self._ping)

    def _ping(self) -> None:
        with self._engine.connect() as conn:
            conn.execute(sa.select(sa.func.count()).select_from(chat_sessions))
