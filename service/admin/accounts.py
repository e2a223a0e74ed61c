"""Console accounts: argon2 password hashes, logins that lock after repeated failures,
server-side sessions known by a hash of their cookie token, each with its CSRF token, and
the audit log of who did what."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from service.db.tables import admin_sessions, admin_users, as_utc, audit_log, iso_utc

Role = Literal["editor", "ops"]
ROLES: tuple[Role, ...] = ("editor", "ops")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$")
MIN_PASSWORD = 12
_HASHER = PasswordHasher()
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
        """ops may do everything an editor may, and change retrieval settings."""
        return needed == "editor" or self.role == "ops"


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

    def create_user(self, name: str, role: Role, password: str) -> AdminUser:
        if not NAME.match(name):
            raise AccountError("a name is 2-64 letters, digits, '.', '_' or '-'")
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
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

    def login(self, name: str, password: str, now: datetime) -> Login | None:
        """A new session, or None: wrong name, wrong password, or a locked account (the
        same None for all three, so a caller cannot tell which)."""
        with self._engine.begin() as conn:
            row = conn.execute(sa.select(admin_users).where(admin_users.c.name == name)).first()
        if row is None:
            _verify(_DUMMY, password)
            return None
        locked = as_utc(row.locked_until)
        if locked is not None and locked > now:
            _verify(_DUMMY, password)
            return None
        if not _verify(row.password_hash, password):
            self._failed(row, now)
            return None
        user = AdminUser(row.id, row.name, row.role)
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self._engine.begin() as conn:
            conn.execute(
                admin_users.update()
                .where(admin_users.c.id == row.id)
                .values(failed_logins=0, locked_until=None)
            )
            conn.execute(
                admin_sessions.insert().values(
                    token_hash=_token_hash(token),
                    user_id=row.id,
                    csrf=csrf,
                    created_at=now,
                    expires_at=now + self._session,
                )
            )
        return Login(user, token, csrf)

    def _failed(self, row: Any, now: datetime) -> None:
        failures = row.failed_logins + 1
        values: dict[str, Any] = {"failed_logins": failures}
        if failures >= self._max_failed:
            values = {"failed_logins": 0, "locked_until": now + self._lock}
        with self._engine.begin() as conn:
            conn.execute(admin_users.update().where(admin_users.c.id == row.id).values(**values))

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


def _verify(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False
