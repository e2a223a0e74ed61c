"""Alembic environment: the database URL comes from faqbot's settings, not alembic.ini."""

from __future__ import annotations

from sqlalchemy import engine_from_config, pool

from alembic import context
from service.config import load_settings

config = context.config
# A URL handed over by service.db.migrations wins; otherwise faqbot's settings decide.
config.set_main_option(
    "sqlalchemy.url", (config.attributes.get("url") or load_settings().db.url).replace("%", "%%")
)
target_metadata = None  # migrations are written by hand; no autogenerate


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    given = config.attributes.get("connection")
    if given is not None:  # service.db.migrations: the connection holding the lock
        context.configure(connection=given)
        with context.begin_transaction():
            context.run_migrations()
        return
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
