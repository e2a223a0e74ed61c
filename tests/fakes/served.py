"""Runs an ASGI app on a free loopback port in a background thread (uvicorn), for the
fakes of other systems' HTTP APIs: Ollama, Shopify, a shop's webhook."""

from __future__ import annotations

import threading
import time
from typing import Any, Self

import uvicorn

from tests.live_server import free_port


class Served:
    def __init__(self, app: Any, name: str) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
