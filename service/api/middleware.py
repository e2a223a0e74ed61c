"""ASGI middleware: the client's real address, a hard limit on request bodies, and the
door that turns away an address its limit refused a moment ago.

Both are plain ASGI so they run before any routing or body parsing, and behave the same
under uvicorn, behind a proxy, and in tests.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def networks(items: Iterable[str]) -> list[Network]:
    return [ipaddress.ip_network(t, strict=False) for t in items]


def within(address: str, nets: Iterable[Network]) -> bool:
    """Whether an address (any text) is in one of the networks; False if it is no address."""
    ip = _ip(address)
    return ip is not None and any(ip in net for net in nets)


class ClientAddress:
    """Sets scope["client"] to the address that limits and logs should use, and
    scope["scheme"] to the one the client used.

    X-Forwarded-For is believed only from a trusted proxy, and then read from the right:
    the first address that is not itself a trusted proxy is the client. Anything a client
    writes into the header further left is ignored, so a new value buys no new allowance.
    With no trusted proxies (the default) the peer address is the client. Likewise
    X-Forwarded-Proto (the proxy's own, the last value): a proxy that ends TLS says the
    request came over https, which the console's Secure cookie depends on."""

    def __init__(self, app: ASGIApp, trusted: Iterable[str]) -> None:
        self.app = app
        self.trusted = networks(trusted)

    def _trusted(self, address: str) -> bool:
        return within(address, self.trusted)

    def client_of(self, peer: str, forwarded: list[str]) -> str:
        if not self.trusted or not self._trusted(peer):
            return peer
        hops = [h.strip() for value in forwarded for h in value.split(",") if h.strip()]
        for hop in reversed(hops):
            if _ip(hop) is None:
                return peer  # a malformed chain: trust none of it
            if not self._trusted(hop):
                return hop
        return peer

    def scheme_of(self, peer: str, scheme: str, forwarded_proto: list[str]) -> str:
        if not self.trusted or not self._trusted(peer) or not forwarded_proto:
            return scheme
        told = forwarded_proto[-1].split(",")[-1].strip().lower()
        return told if told in ("http", "https") else scheme

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope.get("client"):
            peer, port = scope["client"]
            headers = scope["headers"]
            forwarded = [v.decode("latin-1") for k, v in headers if k == b"x-forwarded-for"]
            # in place: outer middleware (request telemetry) reads what routing adds
            scope["client"] = (self.client_of(peer, forwarded), port)
            if scope["type"] == "http":
                proto = [v.decode("latin-1") for k, v in headers if k == b"x-forwarded-proto"]
                scope["scheme"] = self.scheme_of(peer, scope.get("scheme", "http"), proto)
        await self.app(scope, receive, send)


class BodyLimit:
    """413 for a body over max_bytes: at once from Content-Length, or as soon as a
    chunked body passes the limit (the rest is not read)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        lengths = [v for k, v in scope["headers"] if k == b"content-length"]
        if lengths:
            try:
                declared = int(lengths[0])
                if declared < 0 or len(set(lengths)) > 1:
                    raise ValueError
            except ValueError:
                await _reply(send, 400, "malformed Content-Length header")
                return
            if declared > self.max_bytes:
                await _reply(send, 413, self._too_large())
                return

        received = 0
        started = False
        refused = False

        async def limited_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    if not started:
                        await _reply(send, 413, self._too_large())
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # our 413 went out instead
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, limited_receive, guarded_send)

    def _too_large(self) -> str:
        return f"request body too large (limit {self.max_bytes} bytes)"


async def _reply(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# The JSON entry points whose per-address limit can be enforced before the body is read.
DOOR: dict[str, str] = {
    "/v1/chat": "chat",
    "/v1/chat/stream": "chat",
    "/v1/chat/completions": "chat",
    "/v1/handoff": "handoff",
    "/v1/feedback": "feedback",
    "/admin/api/login": "login",
}


class LimitDoor:
    """429 at once for an address its limit refused a moment ago and whose bucket has
    not refilled: a flood then costs the service a dictionary lookup a request, not a
    body read, validation, a store round trip or a log line. The routes take the tokens
    (throttle/limits.py); this only repeats their last answer. Runs right after
    ClientAddress, before request telemetry."""

    def __init__(self, app: ASGIApp, allowed_origins: Iterable[str] = ()) -> None:
        self.app = app
        # CORS runs further in: a shop's widget must still be able to read the 429
        self.allowed_origins = {o.encode() for o in allowed_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = DOOR.get(scope.get("path", "")) if scope["type"] == "http" else None
        limits = getattr(scope["app"].state, "limits", None) if name else None
        client = scope.get("client")
        refused = limits.door(name, client[0]) if limits and client else None
        if refused is None:
            await self.app(scope, receive, send)
            return
        wait = str(refused.retry_after_s)
        payload: dict[str, Any] = {"detail": refused.detail}
        if scope["path"].endswith("/completions"):  # OpenAI's shape
            error = {"message": refused.detail, "type": "rate_limit_error"}
            payload = {"error": {**error, "code": None, "param": None}}
        body = json.dumps(payload).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", wait.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"cache-control", b"no-store"),
        ]
        origin = next((v for k, v in scope["headers"] if k == b"origin"), None)
        if origin is not None and origin in self.allowed_origins:
            headers += [
                (b"access-control-allow-origin", origin),
                (b"access-control-expose-headers", b"Retry-After"),
                (b"vary", b"Origin"),
            ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})
