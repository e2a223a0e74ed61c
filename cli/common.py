"""What every command shares: exit codes and how errors are printed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.config import Settings

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
DEFAULT_FAQ_DIR = Path("data/faq")


def err(message: str) -> None:
    print(f"faqbot: {message}", file=sys.stderr)


def say(line: str) -> None:
    """Progress and details go to stderr; stdout carries the result (and --json)."""
    print(line, file=sys.stderr)


def settings_for(args: argparse.Namespace) -> Settings:
    """The settings a command runs with: those it was handed (the console's worker gets
    the service's own), else the environment and --config."""
    from service.config import load_settings

    given: Settings | None = getattr(args, "settings", None)
    return given if given is not None else load_settings(args.config)
