"""Console accounts: argon2 password hashes, logins that lock after repeated failures,
server-side sessions known by a hash of their cookie token, each with its CSRF token, and
the audit log of who did what."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from service.db.tables import admin_sessions, admin_users, as_utc, audit_log, iso_utc
from service.orders.attempts import LOGIN_ONLY, SqlAttemptCounter

T = TypeVar("T")
Role = Literal["editor", "ops", "agent"]
ROLES: tuple[Role, ...] = ("editor", "ops", "agent")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$")
MIN_PASSWORD = 12
_HASHER = PasswordHasher()
ANONYMOUS = "-"  # the audit log's user for what happens before anyone is logged in
# Checked when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY = _HASHER.hash("not a password of anyone's")


class AccountError(ValueError):
    """A user the CLI or the console was asked to create is not valid; the message says why."""


@dataclass(frozen=True)
class AdminUser:
    id: int
    name: str
    role: Role

    def may(self, needed: Role) -> bool:
        """ops may do everything, editors edit the FAQ, agents answer customers who asked
        for a person (and nothing else)."""
        return self.role == "ops" or self.role == needed


@dataclass(frozen=True)
class Login:
    user: AdminUser
    token: str  # the cookie's value; only its hash is stored
    csrf: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AdminAccounts:
    def __init__(
        self,
        engine: sa.Engine,
        max_failed: int = 5,
        lock: timedelta = timedelta(minutes=15),
        session: timedelta = timedelta(hours=8),
    ) -> None:
        self._engine = engine
        self._max_failed = max_failed
        self._lock = lock
        self._session = session
        # Its purges forget login windows only: the table also holds the order lookup's.
        self._counter = SqlAttemptCounter(engine, lock.total_seconds(), scopes=LOGIN_ONLY)

    def create_user(self, name: str, role: Role, password: str) -> AdminUser:
        if not NAME.match(name):
            raise AccountError("a name is 2-64 letters, digits, '.', '_' or '-'")
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        _check_password(password)
        with self._engine.begin() as conn:
            if conn.execute(sa.select(admin_users.c.id).where(admin_users.c.name == name)).first():
                raise AccountError(f'a user "{name}" exists already')
            new_id = conn.execute(
                admin_users.insert().values(
                    name=name,
                    role=role,
                    password_hash=_HASHER.hash(password),
                    failed_logins=0,
                    created_at=datetime.now(UTC),
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        return AdminUser(int(new_id), name, role)

    def users(self) -> list[dict[str, Any]]:
        """Every account: name, role, when it was made (`faqbot admin users`)."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    admin_users.c.name, admin_users.c.role, admin_users.c.created_at
                ).order_by(admin_users.c.name)
            ).all()
        return [{"name": r.name, "role": r.role, "created": iso_utc(r.created_at)} for r in rows]

    def reset_password(self, name: str, password: str) -> None:
        """A new password; the account's open sessions end (whoever knew the old one is
        logged out)."""
        _check_password(password)
        with self._engine.begin() as conn:
            user_id = self._user_id(conn, name)
            conn.execute(
                admin_users.update()
                .where(admin_users.c.id == user_id)
                .values(password_hash=_HASHER.hash(password))
            )
            conn.execute(admin_sessions.delete().where(admin_sessions.c.user_id == user_id))

    def delete_user(self, name: str) -> None:
        """Removes the account and its sessions; never the last ops account (nobody could
        change retrieval settings or make a new ops account from the console)."""
        with self._engine.begin() as conn:
            user_id = self._user_id(conn, name)
            role = conn.execute(
                sa.select(admin_users.c.role).where(admin_users.c.id == user_id)
            ).scalar_one()
            ops = conn.execute(
                sa.select(sa.func.count())
                .select_from(admin_users)
                .where(admin_users.c.role == "ops")
            ).scalar_one()
            if role == "ops" and ops <= 1:
                raise AccountError(f'"{name}" is the last ops account; create another first')
            conn.execute(admin_sessions.delete().where(admin_sessions.c.user_id == user_id))
            conn.execute(admin_users.delete().where(admin_users.c.id == user_id))

    @staticmethod
    def _user_id(conn: sa.Connection, name: str) -> int:
        found = conn.execute(sa.select(admin_users.c.id).where(admin_users.c.name == name)).first()
        if found is None:
            raise AccountError(f'no user "{name}" (faqbot admin users lists them)')
        return int(found.id)

    def login(
        self, name: str, password: str, now: datetime, address: str = "unknown"
    ) -> Login | None:
        """A new session, or None: wrong name, wrong password, or locked (the same None
        for all three, so a caller cannot tell which).

        Failures are counted per account *and* client address, atomically: five wrong
        passwords from one address lock that pair only, so nobody elsewhere can lock an
        editor out, and concurrent tries cannot slip past the count. Every failure and
        lock is audited."""
        key = f"{name.lower()}|{address}"
        if self._counter.peek("login", key, now).locked(now):
            _verify(_DUMMY, password)
            self.audit(ANONYMOUS, "login_refused", {"name": name, "address": address})
            return None
        with self._engine.begin() as conn:
            row = conn.execute(sa.select(admin_users).where(admin_users.c.name == name)).first()
        # A wrong name costs a hash check too: the answer's timing tells nothing.
        verified = _verify(row.password_hash if row is not None else _DUMMY, password)
        if row is None or not verified:
            self._failed(name, key, address, now)
            return None
        self._counter.reset("login", key)
        return self._new_session(AdminUser(row.id, row.name, row.role), now)

    def _failed(self, name: str, key: str, address: str, now: datetime) -> None:
        count = self._counter.hit("login", key, window_s=self._lock.total_seconds(), now=now)
        detail = {"name": name, "address": address, "failures": count.count}
        self.audit(ANONYMOUS, "login_failed", detail)
        if count.count >= self._max_failed and not count.locked(now):
            self._counter.lock("login", key, now + self._lock)
            self.audit(ANONYMOUS, "login_locked", {**detail, "minutes": self._lock_minutes})

    @property
    def _lock_minutes(self) -> int:
        return int(self._lock.total_seconds() // 60)

    def _new_session(self, user: AdminUser, now: datetime) -> Login:
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self._engine.begin() as conn:
            # Expired sessions are of no use to anyone: gone at the next login.
            conn.execute(admin_sessions.delete().where(admin_sessions.c.expires_at <= now))
            conn.execute(
                admin_sessions.insert().values(
                    token_hash=_token_hash(token),
                    user_id=user.id,
                    csrf=csrf,
                    created_at=now,
                    expires_at=now + self._session,
                )
            )
        return Login(user, token, csrf)

    def purge_sessions(self, now: datetime) -> int:
        """Delete expired sessions (`faqbot db purge`; every login does it too)."""
        with self._engine.begin() as conn:
            return int(
                conn.execute(
                    admin_sessions.delete().where(admin_sessions.c.expires_at <= now)
                ).rowcount
            )

    def session(self, token: str, now: datetime) -> tuple[AdminUser, str] | None:
        """The user and CSRF token of a live session."""
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(admin_users.c.id, admin_users.c.name, admin_users.c.role, admin_sessions)
                .join(admin_users, admin_users.c.id == admin_sessions.c.user_id)
                .where(admin_sessions.c.token_hash == _token_hash(token))
            ).first()
        expires = as_utc(row.expires_at) if row is not None else None
        if row is None or expires is None or expires <= now:
            return None
        return AdminUser(row.id, row.name, row.role), row.csrf

    def logout(self, token: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                admin_sessions.delete().where(admin_sessions.c.token_hash == _token_hash(token))
            )

    def audit(self, user: str, action: str, detail: dict[str, Any] | None = None) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                audit_log.insert().values(
                    at=datetime.now(UTC), user_name=user, action=action, detail=detail
                )
            )

    def audit_trail(self, limit: int = 100) -> list[dict[str, Any]]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
            ).all()
        return [
            {
                "at": iso_utc(r.at),
                "user": r.user_name,
                "action": r.action,
                "detail": r.detail,
            }
            for r in rows
        ]


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")


def _verify(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


class LoginsBusy(RuntimeError):
    """More logins are waiting for a password check than the pool queues."""


class PasswordChecks:
    """Logins on threads of their own, a bounded number waiting, at the lowest CPU
    priority. A password check costs tens of milliseconds of CPU on purpose; on the
    threads the answer path shares (asyncio.to_thread) a flood of wrong logins would
    queue every customer's retrieval behind it, and at normal priority its hashing would
    still take the cores answers need."""

    def __init__(self, workers: int = 1, max_waiting: int = 8) -> None:
        self._executor = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="login", initializer=_lowest_priority
        )
        self._max_pending = workers + max_waiting
        self._pending = 0
        self._lock = threading.Lock()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        with self._lock:
            if self._pending >= self._max_pending:
                raise LoginsBusy("too many logins at once")
            self._pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        finally:
            with self._lock:
                self._pending -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _lowest_priority() -> None:
    """Linux keeps a nice value per thread (and argon2's own lane threads inherit it):
    hashing then runs on what the answer path leaves idle."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or not allowed
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
