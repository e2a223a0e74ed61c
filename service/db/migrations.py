"""Runs the Alembic migrations programmatically (`faqbot db upgrade`, tests)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
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


def behind(engine: sa.Engine) -> bool | None:
    """Whether the database lacks migrations this faqbot has (None: cannot tell here,
    e.g. no alembic folder next to an installed package)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    try:
        script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    except FileNotFoundError:
        return None
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current != set(script.get_heads())


def upgrade(url: str, revision: str = "head") -> None:
    _ensure_sqlite_folder(url)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def _ensure_sqlite_folder(url: str) -> None:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
