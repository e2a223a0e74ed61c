"""The `faqbot` command: thin wrappers over library functions, one module a command group.

This is the top layer: it may import ingest and the service; neither imports it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from cli import (
    admin_commands,
    db_commands,
    import_command,
    ingest_commands,
    orders_commands,
    retrieval_commands,
    serve_command,
)
from cli.common import EXIT_REFUSED, EXIT_USAGE, err, settings_for
from service.config import Settings

DESCRIPTION = """faqbot answers a shop's customers from its FAQ (markdown in data/faq/),
and looks up their orders.

first run:
  faqbot db upgrade              create or update the database
  faqbot ingest data/faq         index the FAQ (again after every change)
  faqbot serve                   the chat page at http://127.0.0.1:8000/

Settings come from FAQBOT_* environment variables or --config (README, "Settings")."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="faqbot",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, help="YAML or JSON settings file (or FAQBOT_CONFIG)")
    sub = parser.add_subparsers(dest="command", required=True)
    ingest_commands.add_parser(sub)
    retrieval_commands.add_parsers(sub)
    serve_command.add_parser(sub)
    db_commands.add_parser(sub)
    admin_commands.add_parser(sub)
    import_command.add_parser(sub)
    orders_commands.add_parser(sub)
    return parser


def _check_numbers(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if getattr(args, "top_k", 1) < 1:
        parser.error("--top-k must be at least 1")
    if getattr(args, "threshold", None) is not None and not 0.0 <= args.threshold <= 1.0:
        parser.error("--threshold must be between 0 and 1")
    if getattr(args, "days", None) is not None and args.days < 1:
        parser.error("--days must be at least 1")
    if getattr(args, "orders", 1) < 1:
        parser.error("--orders must be at least 1")
    if not 1 <= getattr(args, "port", 1) <= 65535:
        parser.error("--port must be between 1 and 65535")


def _refuse_unwritable(args: argparse.Namespace) -> bool:
    """serve and ingest write state: refuse at once, in words, where they could not."""
    if args.command not in ("serve", "ingest"):
        return False
    from cli.preflight import state_paths, unwritable

    problems = unwritable(state_paths(settings_for(args), args.command))
    for problem in problems:
        err(f"{args.command}: {problem}")
    return bool(problems)


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    """Settings given (the console's worker): used as they are, not read again."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.settings = settings
    _check_numbers(parser, args)
    try:
        if _refuse_unwritable(args):
            return EXIT_REFUSED
        return int(args.func(args))
    except ValueError as exc:  # settings and config-file errors
        err(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        err("interrupted; the live index is unchanged")
        return 130


if __name__ == "__main__":
    sys.exit(main())
