"""`faqbot admin`: accounts for the console at /admin. Every change is audited (the
console's audit trail shows it, by "cli")."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import Any

from cli.common import EXIT_OK, EXIT_REFUSED, err, say, settings_for


def add_parser(sub: Any) -> None:
    p = sub.add_parser("admin", help="console accounts (FAQBOT_ADMIN__ENABLED=true serves /admin)")
    actions = p.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create-user", help="a new editor, ops or agent account")
    create.add_argument("name", help="the login name")
    create.add_argument("--role", choices=["editor", "ops", "agent"], required=True)
    _password_option(create)
    actions.add_parser("users", help="list the accounts")
    reset = actions.add_parser(
        "reset-password", help="set a new password; the account's sessions end"
    )
    reset.add_argument("name")
    _password_option(reset)
    delete = actions.add_parser("delete-user", help="remove an account and its sessions")
    delete.add_argument("name")
    p.set_defaults(func=run)


def _password_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (otherwise it is asked for twice)",
    )


def _password(from_stdin: bool) -> str | None:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        err("admin: the passwords differ")
        return None
    return first


def run(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from service.admin.accounts import AccountError, AdminAccounts
    from service.db.engine import make_engine

    settings = settings_for(args)
    password = None
    if args.action in ("create-user", "reset-password"):
        password = _password(args.password_stdin)
        if password is None:
            return EXIT_REFUSED
    engine = make_engine(settings.db.url)
    try:
        accounts = AdminAccounts(engine)
        ACTIONS[args.action](accounts, args, password or "")
    except AccountError as exc:
        err(f"admin {args.action}: {exc}")
        return EXIT_REFUSED
    except SQLAlchemyError as exc:
        err(f"admin: the database refused: {type(exc).__name__} (run `faqbot db upgrade` first?)")
        return EXIT_REFUSED
    finally:
        engine.dispose()
    return EXIT_OK


def _create(accounts: Any, args: argparse.Namespace, password: str) -> None:
    user = accounts.create_user(args.name, args.role, password)
    accounts.audit("cli", "create-user", {"name": user.name, "role": user.role})
    say(f"created {user.role} {user.name}")


def _users(accounts: Any, args: argparse.Namespace, password: str) -> None:
    users = accounts.users()
    for user in users:
        print(f"{user['name']}\t{user['role']}\tcreated {user['created']}")
    if not users:
        say("no accounts yet: faqbot admin create-user NAME --role ops")


def _reset(accounts: Any, args: argparse.Namespace, password: str) -> None:
    accounts.reset_password(args.name, password)
    accounts.audit("cli", "reset-password", {"name": args.name})
    say(f"new password set for {args.name}; their sessions ended")


def _delete(accounts: Any, args: argparse.Namespace, password: str) -> None:
    accounts.delete_user(args.name)
    accounts.audit("cli", "delete-user", {"name": args.name})
    say(f"deleted {args.name}")


ACTIONS: dict[str, Callable[[Any, argparse.Namespace, str], None]] = {
    "create-user": _create,
    "users": _users,
    "reset-password": _reset,
    "delete-user": _delete,
}
