"""Runs the Alembic migrations programmatically (`faqbot db upgrade`, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config

from alembic import command


def _project_root() -> Path:
    """The folder with alembic.ini: the source tree for an editable install, else the
    working directory (the Docker image installs the package and runs from /app)."""
    for candidate in (Path(__file__).resolve().parents[2], Path.cwd()):
        if (candidate / "alembic.ini").is_file() and (candidate / "alembic").is_dir():
            return candidate
    raise FileNotFoundError(
        "alembic.ini and alembic/ not found: run faqbot db commands from the project folder"
    )


def alembic_config(url: str) -> Config:
    root = _project_root()
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "alembic"))
    config.attributes["url"] = url  # env.py prefers this over the settings
    return config


def upgrade(url: str, revision: str = "head") -> None:
    _ensure_sqlite_folder(url)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def _ensure_sqlite_folder(url: str) -> None:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
