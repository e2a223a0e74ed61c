"""`faqbot db`: migrations, demo data, and the retention purge."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from cli.common import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, err, settings_for
from service.config import Settings

if TYPE_CHECKING:  # the commands import their libraries when they run
    from service.db.migrations import Upgraded


def add_parser(sub: Any) -> None:
    p = sub.add_parser("db", help="database migrations, demo data, retention purge")
    p.add_argument("action", choices=["upgrade", "downgrade", "seed", "purge"])
    p.add_argument("--demo", action="store_true", help="with seed: demo customers and orders")
    p.add_argument("--orders", type=int, default=240, help="with seed --demo: how many")
    p.add_argument(
        "--if-empty", action="store_true", help="with seed: do nothing if there are orders"
    )
    p.add_argument(
        "--days",
        type=int,
        help="with purge: keep this many days (default FAQBOT_DB__RETENTION_DAYS, 30)",
    )
    p.add_argument("revision", nargs="?", help="target (default: head / one step down)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from service.db.migrations import MigrationLockTimeout, downgrade, upgrade

    settings = settings_for(args)
    try:
        if args.action == "upgrade":
            done = upgrade(settings.db.url, args.revision or "head")
            print(upgrade_summary(done, _masked(settings.db.url)))
            return EXIT_OK
        elif args.action == "downgrade":
            downgrade(settings.db.url, args.revision or "-1")
        elif args.action == "purge":
            return _purge(settings, args.days)
        else:
            return _seed(settings, args)
    except SQLAlchemyError as exc:
        err(f"db {args.action}: {exc.__class__.__name__}: {exc.args[0] if exc.args else exc}")
        return EXIT_REFUSED
    except MigrationLockTimeout as exc:
        err(f"db {args.action}: {exc}")
        return EXIT_REFUSED
    print(f"database {args.action} done ({_masked(settings.db.url)})")
    return EXIT_OK


def upgrade_summary(done: Upgraded, where: str) -> str:
    """One line: whether this process migrated, or found the schema current (another
    replica may have migrated it a moment ago, under the same lock)."""
    now = ", ".join(sorted(done.after))
    if not done.changed:
        return f"database already at {now or 'base'}: nothing to do ({where})"
    was = ", ".join(sorted(done.before)) or "an empty database"
    return f"database upgraded from {was} to {now} ({where})"


def _seed(settings: Settings, args: argparse.Namespace) -> int:
    from service.db.engine import make_engine
    from service.orders.seed import seed_demo

    if not args.demo:
        err("db seed: only demo data can be seeded (--demo)")
        return EXIT_USAGE
    url = settings.orders.db_url or settings.db.url
    engine = make_engine(url)
    try:
        n = seed_demo(engine, args.orders)
    except ValueError as exc:
        if args.if_empty:
            print(f"db seed: skipped, {exc.args[0].split(';')[0]}")
            return EXIT_OK
        err(f"db seed: {exc}")
        return EXIT_REFUSED
    finally:
        engine.dispose()
    print(f"seeded {n} demo orders into {_masked(url)}")
    return EXIT_OK


def _purge(settings: Settings, days: int | None) -> int:
    """Deletes chat history, feedback and stale verification state past the retention."""
    import asyncio
    from datetime import UTC, datetime, timedelta

    from service.admin.accounts import AdminAccounts
    from service.chat.sql_store import SqlChatStore
    from service.db.engine import engine_for
    from service.db.guard import guard_for
    from service.handoff import HandoffDesk
    from service.orders.attempts import LOGIN_ONLY, SqlAttemptCounter
    from service.orders.repository import OrderRepository

    keep = days or settings.db.retention_days
    now = datetime.now(UTC)
    timeout = 600.0  # a purge may delete many rows; it is not on anyone's answer path
    slow = settings.db.model_copy(update={"statement_timeout_s": timeout})
    engine = engine_for(settings.db.url, slow, timeout)
    cutoff = now - timedelta(days=keep)
    try:
        guard = guard_for("purge", settings.db, timeout)
        removed = asyncio.run(SqlChatStore(engine, guard).purge(cutoff))
        removed += HandoffDesk(engine, guard, settings.handoff).purge(cutoff)
        # console sessions past their end, login failures past their lock window
        sessions = AdminAccounts(engine).purge_sessions(now)
        lock_window = timedelta(minutes=settings.admin.lock_minutes)
        sessions += SqlAttemptCounter(engine, 0).purge(now - lock_window, now, LOGIN_ONLY)
    finally:
        engine.dispose()
    order_engine = engine_for(settings.orders.db_url or settings.db.url, slow, timeout)
    windows = max(settings.orders.failure_window_minutes, settings.orders.address_window_minutes)
    try:
        stale = OrderRepository(order_engine).purge_access(now)
        stale += SqlAttemptCounter(order_engine, 0).purge(now - timedelta(minutes=windows), now)
    finally:
        order_engine.dispose()
    print(
        f"purged {removed} chat and handoff rows older than {keep} days, {stale} expired "
        f"verification and attempt records and {sessions} expired console sessions and "
        "login failures"
    )
    return EXIT_OK


def _masked(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
