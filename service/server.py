"""How faqbot runs under uvicorn: one place, used by `faqbot serve` and the tests."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from service.config import Settings


def limit_blas_threads() -> None:
    """One BLAS thread in the serving process. Its per-query products are small, and
    OpenBLAS's worker threads waiting for work compete with onnxruntime's for the same
    cores: at 2,000 entries the classifier's product took 3.1 ms and query embedding
    5.5 ms with them, 0.3 ms and 3.1 ms without (bench/retrieval_scale.py). Ingest keeps
    every thread for the classifier's fit."""
    import numpy  # noqa: F401 - threadpoolctl limits only the BLAS libraries loaded
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


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
        access_log=False,  # one line per request comes from RequestTelemetry, with its id
        log_level=settings.logging.level.lower(),
    )
