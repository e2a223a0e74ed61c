"""A real uvicorn server in a thread, configured as `faqbot serve` configures it; and
waiting for a `faqbot serve` process to become ready."""

from __future__ import annotations

import socket
import subprocess
import threading
import time

import httpx
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


def wait_until_ready(url: str, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """Poll a `faqbot serve` process's /readyz; RuntimeError if it exits or never gets
    ready within timeout_s."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"faqbot serve exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"faqbot serve was not ready within {timeout_s:.0f} s")
        time.sleep(0.5)


def ask(base: str, message: str, session: str | None = None) -> dict[str, object]:
    """POST /v1/chat on a live server; the answer's record (asserts a 200)."""
    body = {"message": message, **({"session_id": session} if session else {})}
    r = httpx.post(f"{base}/v1/chat", json=body, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]
