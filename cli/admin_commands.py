"""`faqbot admin create-user NAME --role editor|ops`: accounts for the console at /admin."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from cli.common import EXIT_OK, EXIT_REFUSED, err, say
from service.config import load_settings


def add_parser(sub: Any) -> None:
    p = sub.add_parser("admin", help="console accounts (FAQBOT_ADMIN__ENABLED=true serves /admin)")
    p.add_argument("action", choices=["create-user"])
    p.add_argument("name", help="the login name")
    p.add_argument("--role", choices=["editor", "ops"], required=True)
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (otherwise it is asked for twice)",
    )
    p.set_defaults(func=run)


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

    settings = load_settings(args.config)
    password = _password(args.password_stdin)
    if password is None:
        return EXIT_REFUSED
    engine = make_engine(settings.db.url)
    try:
        user = AdminAccounts(engine).create_user(args.name, args.role, password)
        AdminAccounts(engine).audit("cli", "create-user", {"name": user.name, "role": user.role})
    except AccountError as exc:
        err(f"admin: {exc}")
        return EXIT_REFUSED
    except SQLAlchemyError as exc:
        err(f"admin: the database refused: {type(exc).__name__} (run `faqbot db upgrade` first?)")
        return EXIT_REFUSED
    finally:
        engine.dispose()
    say(f"created {user.role} {user.name}")
    return EXIT_OK
