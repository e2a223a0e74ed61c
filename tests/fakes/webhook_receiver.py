"""A shop's webhook endpoint for order requests, over real HTTP: checks the signature as
a receiver should (desk.signature), records what it got, and can answer slowly or with
an error to test retries."""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from service.orders.desk import signature
from tests.fakes.served import Served

SECRET = "whsec_test"


@dataclass
class ReceiverBehaviour:
    status: int = 200
    delay_s: float = 0.0
    received: list[dict[str, Any]] = field(default_factory=list)  # verified bodies
    refused: int = 0  # requests with a wrong signature


def build_app(b: ReceiverBehaviour) -> Starlette:
    async def hook(request: Request) -> Response:
        body = await request.body()
        given = request.headers.get("x-faqbot-signature", "")
        stamp = given.split(",")[0].removeprefix("t=")
        expected = signature(SECRET, int(stamp) if stamp.isdigit() else 0, body)
        if not hmac.compare_digest(given, expected):
            b.refused += 1
            return JSONResponse({"error": "bad signature"}, status_code=401)
        if b.delay_s:
            await asyncio.sleep(b.delay_s)
        if b.status == 200:
            b.received.append(json.loads(body))
        return JSONResponse({"ok": b.status == 200}, status_code=b.status)

    return Starlette(routes=[Route("/hooks/faqbot", hook, methods=["POST"])])


class WebhookReceiver(Served):
    def __init__(self, behaviour: ReceiverBehaviour | None = None) -> None:
        self.behaviour = behaviour or ReceiverBehaviour()
        super().__init__(build_app(self.behaviour), "webhook receiver")
        self.url = f"{self.url}/hooks/faqbot"

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while len(self.behaviour.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.behaviour.received
