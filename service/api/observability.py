"""Request ids, one log line per request, and GET /metrics.

The middleware is plain ASGI so that it measures a streamed answer until its last byte,
and sees the status of every response, the body limit's 413 included.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.deps import SettingsDep
from service.api.middleware import networks, within
from service.metrics import ServiceMetrics

log = logging.getLogger("faqbot.access")
router = APIRouter()
REQUEST_ID = "x-request-id"
_VALID_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestTelemetry:
    """Gives every request an id (the client's X-Request-ID if it is a plain token, a
    new one otherwise), returns it as a header, counts and times the request by route
    template, and logs one line with the mode and stage timings of a chat turn."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given = dict(scope["headers"]).get(REQUEST_ID.encode(), b"").decode("latin-1")
        request_id = given if _VALID_ID.fullmatch(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500  # if the app fails before it starts a response

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, status, time.perf_counter() - started, request_id)

    def _record(self, scope: Scope, status: int, seconds: float, request_id: str) -> None:
        route = _route_label(scope)
        method = str(scope.get("method", ""))
        self.metrics.requests.labels(route, method, str(status)).inc()
        self.metrics.request_seconds.labels(route).observe(seconds)
        turn: dict[str, Any] = scope.get("state", {}).get("turn") or {}
        timings = turn.get("timings") or {}
        stages = " ".join(f"{k}={v}" for k, v in timings.items() if v is not None)
        log.info(
            "request id=%s %s %s status=%d ms=%.1f%s%s",
            request_id,
            method,
            route,
            status,
            seconds * 1000,
            f" mode={turn['mode']}" if "mode" in turn else "",
            f" {stages}" if stages else "",
        )


def _route_label(scope: Scope) -> str:
    """The route template, never the raw path (paths with ids would be endless series);
    a parameterless route Starlette matched without a template (/openapi.json) by path."""
    path = getattr(scope.get("route"), "path", None)
    if path:
        return str(path)
    if scope.get("endpoint") is not None and not scope.get("path_params"):
        return str(scope.get("path", "unmatched"))
    return "unmatched"


def metrics_allowed(request: Request, public: bool, trusted: list[str]) -> bool:
    if public:
        return True
    headers = request.headers
    if "x-forwarded-for" in headers or "forwarded" in headers:
        return False  # came through a proxy: a customer, whatever the peer address
    return within(request.client.host if request.client else "", networks(trusted))


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, settings: SettingsDep) -> Response:
    if not metrics_allowed(request, settings.metrics.public, settings.metrics.trusted):
        raise HTTPException(status_code=404, detail="Not Found")  # as if there were none
    registry: ServiceMetrics = request.app.state.metrics
    return Response(registry.render(), media_type=CONTENT_TYPE_LATEST)
