"""Chat sessions, messages and feedback in SQL (SQLite by default, PostgreSQL in production):
the ChatStore of service/chat/store.py.

Emails and postal codes are masked before anything is stored: history is kept for
follow-up questions and for editors, neither of which needs them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from service.chat.store import (
    ChatStoreError,
    Exchange,
    Shown,
    StoredMessage,
    UnknownMessage,
)
from service.db.guard import DatabaseGuard, DatabaseUnavailable
from service.db.tables import chat_messages, chat_sessions, feedback
from service.privacy import mask_pii


class SqlChatStore:
    """Blocking SQLAlchemy calls on the chat database's own bounded threads."""

    def __init__(self, engine: sa.Engine, guard: DatabaseGuard, public: Iterable[str] = ()) -> None:
        self._engine = engine
        self._guard = guard
        self._public = frozenset(public)  # the shop's own contact, kept unmasked in answers

    async def _run(self, fn: Any, *args: Any) -> Any:
        try:
            return await self._guard.run(fn, *args)
        except DatabaseUnavailable as exc:
            raise ChatStoreError(str(exc)) from exc

    async def session_exists(self, session_id: str) -> bool:
        return bool(await self._run(self._session_exists, session_id))

    def _session_exists(self, session_id: str) -> bool:
        with self._engine.connect() as conn:
            return (
                conn.execute(
                    sa.select(chat_sessions.c.id).where(chat_sessions.c.id == session_id)
                ).first()
                is not None
            )

    async def history(self, session_id: str, limit: int) -> list[StoredMessage]:
        result: list[StoredMessage] = await self._run(self._history, session_id, limit)
        return result

    def _history(self, session_id: str, limit: int) -> list[StoredMessage]:
        if limit <= 0:
            return []
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    chat_messages.c.id,
                    chat_messages.c.role,
                    chat_messages.c.content,
                    chat_messages.c.mode,
                    chat_messages.c.shown,
                    feedback.c.rating,
                )
                .outerjoin(feedback, feedback.c.message_id == chat_messages.c.id)
                .where(chat_messages.c.session_id == session_id)
                .order_by(chat_messages.c.created_at.desc(), chat_messages.c.role.asc())
                .limit(limit)
            ).all()
        return [
            StoredMessage(r.id, r.role, r.content, r.mode, Shown.from_dict(r.shown), r.rating)
            for r in reversed(rows)
        ]

    async def add_exchange(self, exchange: Exchange) -> None:
        await self._run(self._add_exchange, exchange)

    def _add_exchange(self, e: Exchange) -> None:
        with self._engine.begin() as conn:
            exists = conn.execute(
                sa.select(chat_sessions.c.id).where(chat_sessions.c.id == e.session_id)
            ).first()
            if exists is None:
                conn.execute(
                    chat_sessions.insert().values(id=e.session_id, created_at=e.created_at)
                )
            common = {
                "session_id": e.session_id,
                "retrieved": [asdict(r) for r in e.retrieved],
                "index_version": e.index_version,
                "created_at": e.created_at,
            }
            conn.execute(
                chat_messages.insert(),
                [
                    {
                        "id": uuid.uuid4().hex,
                        "role": "user",
                        "content": mask_pii(e.question),
                        "mode": None,
                        **common,
                        "trace": None,
                        "shown": None,
                    },
                    {
                        "id": e.answer_id,
                        "role": "assistant",
                        "content": mask_pii(e.answer, self._public),
                        "mode": e.mode,
                        **common,
                        "trace": e.trace,
                        "shown": e.shown.to_dict(),
                    },
                ],
            )

    async def add_feedback(self, message_id: str, rating: str, comment: str | None) -> None:
        await self._run(self._add_feedback, message_id, rating, comment)

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
            vote = {
                "rating": rating,
                "comment": mask_pii(comment) if comment else comment,
                "question": question,  # masked when it was stored
                "retrieved": answer.retrieved,
                "created_at": datetime.now(UTC),
            }
        self._replace_vote(message_id, vote)

    def _replace_vote(self, message_id: str, vote: dict[str, Any]) -> None:
        """One vote per answer (a unique key): update it, or insert the first one; when a
        concurrent first vote wins the insert, update that one."""
        for _ in range(3):
            with self._engine.begin() as conn:
                updated = conn.execute(
                    feedback.update().where(feedback.c.message_id == message_id).values(**vote)
                ).rowcount
            if updated:
                return
            try:
                with self._engine.begin() as conn:
                    conn.execute(feedback.insert().values(message_id=message_id, **vote))
                return
            except sa.exc.IntegrityError:
                continue
        raise ChatStoreError("feedback: the vote could be neither updated nor stored")

    async def vote(self, message_id: str) -> tuple[str, str | None] | None:
        row = await self._run(self._vote, message_id)
        return None if row is None else (row.rating, row.comment)

    def _vote(self, message_id: str) -> Any:
        with self._engine.connect() as conn:
            return conn.execute(
                sa.select(feedback.c.rating, feedback.c.comment).where(
                    feedback.c.message_id == message_id
                )
            ).first()

    async def ping(self) -> None:
        await self._run(self._ping)

    def _ping(self) -> None:
        with self._engine.connect() as conn:
            conn.execute(sa.select(sa.func.count()).select_from(chat_sessions))

    async def purge(self, older_than: datetime) -> int:
        return int(await self._run(self._purge, older_than))

    def _purge(self, older_than: datetime) -> int:
        with self._engine.begin() as conn:
            n = conn.execute(feedback.delete().where(feedback.c.created_at < older_than)).rowcount
            n += conn.execute(
                chat_messages.delete().where(chat_messages.c.created_at < older_than)
            ).rowcount
            n += conn.execute(
                chat_sessions.delete().where(
                    chat_sessions.c.created_at < older_than,
                    ~sa.exists().where(chat_messages.c.session_id == chat_sessions.c.id),
                )
            ).rowcount
        return n
