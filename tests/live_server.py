"""A real uvicorn server in a thread, configured as `faqbot serve` configures it."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn
from fastapi import FastAPI

from service.config import Settings
from service.server import uvicorn_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(self, app: FastAPI, settings: Settings) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn_config(app, settings, "127.0.0.1", self.port))
        self.thread = threading.Thread(target=self.server.run, name="live-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self.url

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
