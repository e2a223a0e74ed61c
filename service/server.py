"""How faqbot runs under uvicorn: one place, used by `faqbot serve` and the tests."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from service.config import Settings


def uvicorn_config(app: FastAPI, settings: Settings, host: str, port: int) -> uvicorn.Config:
    # proxy_headers off: uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1;
    # the app decides from FAQBOT_SERVER__TRUSTED_PROXIES instead (ClientAddress).
    # log_config None: create_app configured logging (masking, format, level), and
    # uvicorn's loggers, the access log included, go through that handler.
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        proxy_headers=False,
        log_config=None,
        log_level=settings.logging.level.lower(),
    )
