"""What the console's routes are given (FastAPI dependencies), built when the service
starts and closed when it stops: its database engine, the accounts, the question
vectors' cache, the index store, the ingest runner and the login checks' threads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, HTTPException, Request

from service.admin.accounts import AdminAccounts, PasswordChecks
from service.admin.inbox import VectorCache
from service.admin.publishing import IngestRunner
from service.config import Settings
from service.db.engine import make_engine
from service.orders.desk import RequestDesk
from service.retrieval.store import IndexStore


@dataclass
class Console:
    engine: sa.Engine
    accounts: AdminAccounts
    index_store: IndexStore
    runner: IngestRunner
    vectors: VectorCache = field(default_factory=VectorCache)
    checks: PasswordChecks = field(default_factory=PasswordChecks)

    def close(self) -> None:
        self.checks.close()
        self.engine.dispose()


def open_console(settings: Settings, runner: IngestRunner) -> Console:
    engine = make_engine(settings.db.url)
    admin = settings.admin
    accounts = AdminAccounts(
        engine,
        max_failed=admin.max_failed_logins,
        lock=timedelta(minutes=admin.lock_minutes),
        session=timedelta(hours=admin.session_hours),
    )
    return Console(
        engine, accounts, IndexStore(settings.index.path, settings.index.keep_versions), runner
    )


def get_console(request: Request) -> Console:
    console: Console | None = getattr(request.app.state, "console", None)
    if console is None:  # a request before start-up finished, or after shutdown began
        raise HTTPException(503, "the console is starting or stopping; try again")
    return console


ConsoleDep = Annotated[Console, Depends(get_console)]


def get_requests_desk(request: Request) -> RequestDesk | None:
    """The order requests' desk; None when orders or requests are off."""
    desk: RequestDesk | None = getattr(request.app.state, "requests_desk", None)
    return desk


RequestsDep = Annotated[RequestDesk | None, Depends(get_requests_desk)]
