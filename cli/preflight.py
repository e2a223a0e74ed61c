"""Before `serve` or `ingest` starts: every folder faqbot will write must be writable.

In a container the code is read-only and owned by root while faqbot runs as its own
user, so a relative default such as `var/models` would fail deep inside the first
embedding with a traceback. This names each path, the setting that moves it, and what to
do, before any work starts."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from service.config import Settings


@dataclass(frozen=True)
class StatePath:
    path: Path  # a folder faqbot writes into
    setting: str  # the environment variable that moves it


def state_paths(settings: Settings, command: str) -> list[StatePath]:
    """The folders `command` writes: the embedding cache (ONNX export), the index and
    its lock, SQLite databases, and, for the console, the FAQ sources."""
    paths = [
        StatePath(settings.embedding.cache_dir, "FAQBOT_EMBEDDING__CACHE_DIR"),
        StatePath(settings.index.path, "FAQBOT_INDEX__PATH"),
    ]
    for url, setting in (
        (settings.db.url, "FAQBOT_DB__URL"),
        (settings.orders.db_url, "FAQBOT_ORDERS__DB_URL"),
    ):
        folder = _sqlite_folder(url)
        if folder is not None:
            paths.append(StatePath(folder, setting))
    if command == "serve" and settings.admin.enabled:
        paths.append(StatePath(settings.admin.faq_dir, "FAQBOT_ADMIN__FAQ_DIR"))
    return paths


def _sqlite_folder(url: str | None) -> Path | None:
    if url is None or not url.startswith("sqlite:///") or ":memory:" in url:
        return None
    return Path(url.removeprefix("sqlite:///").split("?", 1)[0]).parent


def unwritable(paths: list[StatePath]) -> list[str]:
    """One line per folder that cannot be created or written, with what to do."""
    problems = []
    for item in paths:
        reason = _probe(item.path)
        if reason is not None:
            where = item.path if item.path.is_absolute() else f"{item.path} (in {Path.cwd()})"
            problems.append(
                f"{where} is not writable by uid {os.getuid()}: {reason}. Mount a writable "
                f"volume there or point {item.setting} at a folder this user can write."
            )
    return problems


def _probe(folder: Path) -> str | None:
    """Writes and removes a file in the folder, or in its nearest existing parent when
    the command would create it: nothing is left behind (a dry run writes nothing)."""
    existing = folder.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder"
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".faqbot-write-check-"):
            pass
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None
