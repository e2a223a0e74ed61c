"""`faqbot serve`: the chat service under uvicorn."""

from __future__ import annotations

import argparse
from typing import Any

from cli.common import EXIT_OK
from service.config import load_settings


def add_parser(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the chat service (HTTP API, OpenAPI at /docs)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument(
        "--upgrade-db", action="store_true", help="apply database migrations before starting"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from service.app import create_app
    from service.server import limit_blas_threads, uvicorn_config

    settings = load_settings(args.config)
    if args.upgrade_db:
        from service.db.migrations import upgrade

        upgrade(settings.db.url)
    limit_blas_threads()
    app = create_app(settings)
    if settings.metrics.port is not None:
        from prometheus_client import start_http_server

        # A separate port for the scraper; the main port keeps its own access rule.
        start_http_server(settings.metrics.port, settings.metrics.host, app.state.metrics.registry)
    uvicorn.Server(uvicorn_config(app, settings, args.host, args.port)).run()
    return EXIT_OK
