"""What every command shares: exit codes and how errors are printed."""

from __future__ import annotations

import sys
from pathlib import Path

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
DEFAULT_FAQ_DIR = Path("data/faq")


def err(message: str) -> None:
    print(f"faqbot: {message}", file=sys.stderr)


def say(line: str) -> None:
    """Progress and details go to stderr; stdout carries the result (and --json)."""
    print(line, file=sys.stderr)
