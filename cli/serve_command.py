"""`faqbot serve`: the chat service under uvicorn."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.common import EXIT_OK, EXIT_REFUSED, err, settings_for
from cli.console_runner import WorkerIngestRunner

if TYPE_CHECKING:
    from fastapi import FastAPI


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="run the chat service: the chat page at /, the API's schema at /openapi.json",
        description="The chat page at /, the widget at /widget.js, the console at /admin "
        "(FAQBOT_ADMIN__ENABLED=true), the API's schema at /openapi.json, readiness at "
        "/readyz.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument(
        "--upgrade-db", action="store_true", help="apply database migrations before starting"
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        choices=range(1, 65),
        metavar="N",
        help="worker processes (1-64); set FAQBOT_REDIS__URL so they share the answer cache",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from service.app import create_app
    from service.server import limit_blas_threads, uvicorn_config

    settings = settings_for(args)
    if args.upgrade_db and not _upgraded(settings.db.url):
        return EXIT_REFUSED
    if args.workers > 1:
        return _run_workers(args, settings)
    limit_blas_threads()
    app = create_app(settings, ingest_runner=WorkerIngestRunner())
    if settings.metrics.port is not None:
        from prometheus_client import start_http_server

        # A separate port for the scraper; the main port keeps its own access rule.
        start_http_server(settings.metrics.port, settings.metrics.host, app.state.metrics.registry)
    uvicorn.Server(uvicorn_config(app, settings, args.host, args.port)).run()
    return EXIT_OK


def _upgraded(url: str) -> bool:
    """Migrates (under the database's lock: replicas may start together); False, with
    the reason said, when the database refuses or another migration holds it too long."""
    from sqlalchemy.exc import SQLAlchemyError

    from cli.db_commands import upgrade_summary
    from service.db.migrations import MigrationLockTimeout, upgrade

    try:
        done = upgrade(url)
    except (SQLAlchemyError, MigrationLockTimeout) as exc:
        err(f"serve --upgrade-db: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        return False
    print(upgrade_summary(done, "--upgrade-db"), flush=True)
    return True


def _run_workers(args: argparse.Namespace, settings: Any) -> int:
    """Several processes on one port: uvicorn starts each from the app factory, which
    reads the same settings (the config file is handed on through FAQBOT_CONFIG). Their
    metrics are added up through files in PROMETHEUS_MULTIPROC_DIR (a fresh folder unless
    set), which the metrics port, served by this parent process, reads."""
    import os
    import shutil
    import tempfile

    import uvicorn

    if args.config:
        os.environ["FAQBOT_CONFIG"] = str(args.config)
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    own = folder is None
    if folder is None:
        folder = tempfile.mkdtemp(prefix="faqbot-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    try:
        if settings.metrics.port is not None:
            from prometheus_client import start_http_server

            from service.metrics import multiprocess_registry

            start_http_server(settings.metrics.port, settings.metrics.host, multiprocess_registry())
        uvicorn.run(
            "cli.serve_command:app_from_environment",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            proxy_headers=False,
            log_config=None,
            access_log=False,
            log_level=settings.logging.level.lower(),
        )
    finally:
        if own:
            shutil.rmtree(folder, ignore_errors=True)  # counters start at zero next time
    return EXIT_OK


def app_from_environment() -> FastAPI:
    """The app factory each worker of `faqbot serve --workers N` starts from: settings
    from the environment (and FAQBOT_CONFIG), one BLAS thread, as a single process."""
    import os

    from service.app import create_app
    from service.config import load_settings
    from service.server import limit_blas_threads

    config = os.environ.get("FAQBOT_CONFIG")
    limit_blas_threads()
    settings = load_settings(Path(config) if config else None)
    return create_app(settings, ingest_runner=WorkerIngestRunner())
