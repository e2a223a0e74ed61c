"""A fake of Chatwoot for an API channel inbox, served over real HTTP.

The client API as documented (developers.chatwoot.com, Client APIs): POST
/public/api/v1/inboxes/<inbox_identifier>/contacts (answers the contact with its
``source_id``), POST .../contacts/<source_id>/conversations (the conversation with its
numeric ``id``), POST and GET .../conversations/<id>/messages (a message the contact
writes is ``incoming``). An unknown inbox, contact or conversation is 404 with
{"error": "Resource could not be found"}; where the inbox enforces identity validation,
a wrong ``identifier_hash`` is 401; a throttled call is 429 "Retry later" (Rack::Attack).

The agents' side: ``agent_reply`` and ``resolve`` post the webhook events
(message_created with message_type "outgoing", conversation_status_changed) to the
inbox's webhook URL, signed as Chatwoot 4.11.2+ signs them (X-Chatwoot-Signature
"sha256=" + HMAC-SHA256 of "<timestamp>.<body>", X-Chatwoot-Timestamp,
X-Chatwoot-Delivery), with a 5 s timeout, retried with the same delivery id when the
receiver fails. Knobs: fail the next calls with a status, hold calls until released (a
stalled Chatwoot), refuse everything (down). Requests are recorded.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.fakes.served import Served

INBOX = "3cJ8Xq1wR6hZ2pTnV9bLk4mD"  # an API channel inbox's identifier
WEBHOOK_SECRET = "cw_webhook_secret_for_tests"
NOT_FOUND = {"error": "Resource could not be found"}


@dataclass
class FakeChatwootBehaviour:
    hmac_token: str | None = None  # set: the inbox enforces identity validation
    fail_next: list[int] = field(default_factory=list)  # statuses for the next calls
    down: bool = False  # every call answers 503
    hold: threading.Event | None = None  # set: calls wait for it (up to hold_max_s)
    hold_max_s: float = 30.0
    webhook_url: str | None = None
    webhook_secret: str = WEBHOOK_SECRET
    requests: list[dict[str, Any]] = field(default_factory=list)
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)  # by source_id
    conversations: dict[int, dict[str, Any]] = field(default_factory=dict)
    deliveries: list[dict[str, Any]] = field(default_factory=list)  # webhook calls made
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


def _message(
    b: FakeChatwootBehaviour, conversation: int, content: str, kind: str
) -> dict[str, Any]:
    return {
        "id": next(b._ids),
        "content": content,
        "message_type": kind,
        "content_type": "text",
        "content_attributes": {},
        "created_at": int(time.time()),
        "conversation_id": conversation,
        "private": False,
    }


def build_app(b: FakeChatwootBehaviour) -> Starlette:
    async def gate(request: Request) -> tuple[dict[str, Any], Response | None]:
        raw = await request.body()
        body = json.loads(raw) if raw else {}
        b.requests.append({"method": request.method, "path": request.url.path, "json": body})
        if b.hold is not None:
            deadline = time.monotonic() + b.hold_max_s
            while not b.hold.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
        if b.down:
            return body, JSONResponse({"error": "Service Unavailable"}, status_code=503)
        if b.fail_next:
            status = b.fail_next.pop(0)
            if status == 429:
                return body, PlainTextResponse("Retry later\n", status_code=429)
            return body, JSONResponse({"error": "Internal Server Error"}, status_code=status)
        if request.path_params["inbox"] != INBOX:
            return body, JSONResponse(NOT_FOUND, status_code=404)
        return body, None

    async def create_contact(request: Request) -> Response:
        body, refused = await gate(request)
        if refused is not None:
            return refused
        identifier = body.get("identifier")
        if b.hmac_token is not None:
            expected = hmac.new(
                b.hmac_token.encode(), str(identifier or "").encode(), hashlib.sha256
            ).hexdigest()
            if not hmac.compare_digest(str(body.get("identifier_hash") or ""), expected):
                return JSONResponse(
                    {"error": "HMAC failed: Invalid Identifier Hash Provided"}, status_code=401
                )
        source_id = str(uuid.uuid4())
        contact = {
            "id": next(b._ids),
            "source_id": source_id,
            "name": body.get("name"),
            "email": body.get("email"),
            "phone_number": None,
            "pubsub_token": uuid.uuid4().hex[:24],
            "identifier": identifier,
            "custom_attributes": body.get("custom_attributes") or {},
        }
        b.contacts[source_id] = contact
        return JSONResponse({k: v for k, v in contact.items() if k != "identifier"})

    async def create_conversation(request: Request) -> Response:
        body, refused = await gate(request)
        if refused is not None:
            return refused
        contact = b.contacts.get(request.path_params["contact"])
        if contact is None:
            return JSONResponse(NOT_FOUND, status_code=404)
        cid = next(b._ids)
        b.conversations[cid] = {
            "id": cid,
            "contact": contact["source_id"],
            "status": "open",
            "messages": [],
            "custom_attributes": body.get("custom_attributes") or {},
        }
        return JSONResponse(
            {"id": cid, "inbox_id": 1, "messages": [], "contact": {"id": contact["id"]}}
        )

    def conversation_of(request: Request) -> dict[str, Any] | None:
        found = b.conversations.get(int(request.path_params["conversation"]))
        if found is None or found["contact"] != request.path_params["contact"]:
            return None
        return found

    async def messages(request: Request) -> Response:
        body, refused = await gate(request)
        if refused is not None:
            return refused
        conversation = conversation_of(request)
        if conversation is None:
            return JSONResponse(NOT_FOUND, status_code=404)
        if request.method == "GET":
            return JSONResponse(conversation["messages"])
        content = body.get("content")
        if not isinstance(content, str) or not content:
            return JSONResponse({"message": "Content can't be blank"}, status_code=422)
        message = _message(b, conversation["id"], content, "incoming")
        conversation["messages"].append(message)
        return JSONResponse(message)

    base = "/public/api/v1/inboxes/{inbox}/contacts"
    return Starlette(
        routes=[
            Route(base, create_contact, methods=["POST"]),
            Route(base + "/{contact}/conversations", create_conversation, methods=["POST"]),
            Route(
                base + "/{contact}/conversations/{conversation:int}/messages",
                messages,
                methods=["GET", "POST"],
            ),
        ]
    )


class FakeChatwoot(Served):
    """Runs the fake on a free loopback port in a background thread."""

    def __init__(self, behaviour: FakeChatwootBehaviour | None = None) -> None:
        self.behaviour = behaviour or FakeChatwootBehaviour()
        super().__init__(build_app(self.behaviour), "fake Chatwoot")

    # -- what an agent does in Chatwoot ----------------------------------------------------

    def agent_reply(
        self, conversation: int | str, text: str, agent: str = "Dana", *, private: bool = False
    ) -> int:
        """An agent writes (a private note with private=True); returns the webhook's last
        HTTP status."""
        c = self.behaviour.conversations[int(conversation)]
        message = _message(self.behaviour, c["id"], text, "outgoing")
        message["private"] = private
        c["messages"].append(message)
        payload = {
            **message,
            "event": "message_created",
            "source_id": None,
            "sender": {"id": 7, "name": agent, "email": "dana@shop.example", "type": "user"},
            "inbox": {"id": 1, "name": "faqbot"},
            "conversation": {"id": c["id"], "status": c["status"], "inbox_id": 1},
            "account": {"id": 1, "name": "Test Shop"},
        }
        return self.deliver(payload)

    def resolve(self, conversation: int | str) -> int:
        c = self.behaviour.conversations[int(conversation)]
        c["status"] = "resolved"
        payload = {
            "event": "conversation_status_changed",
            "id": c["id"],
            "inbox_id": 1,
            "status": "resolved",
            "messages": [],
            "meta": {"assignee": {"id": 7, "name": "Dana", "type": "user"}},
        }
        return self.deliver(payload)

    def deliver(self, payload: dict[str, Any], attempts: int = 3, **headers: str) -> int:
        """POSTs a webhook event as Chatwoot does: signed, 5 s timeout, the same delivery
        id on each retry after a failure."""
        url = self.behaviour.webhook_url
        assert url, "set behaviour.webhook_url first"
        body = json.dumps(payload).encode()
        delivery = str(uuid.uuid4())
        status = 0
        for attempt in range(attempts):
            stamp = str(int(time.time()))
            mac = hmac.new(
                self.behaviour.webhook_secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256
            )
            sent = {
                "Content-Type": "application/json",
                "X-Chatwoot-Signature": f"sha256={mac.hexdigest()}",
                "X-Chatwoot-Timestamp": stamp,
                "X-Chatwoot-Delivery": delivery,
                **headers,
            }
            try:
                status = httpx.post(url, content=body, headers=sent, timeout=5).status_code
            except httpx.HTTPError:
                status = 0
            self.behaviour.deliveries.append(
                {"payload": payload, "status": status, "attempt": attempt}
            )
            if 200 <= status < 300 or status in (401, 404):
                break
            time.sleep(0.2 * (attempt + 1))
        return status

    def settings(self, **changes: Any) -> dict[str, Any]:
        """The helpdesk settings group that points faqbot at this fake."""
        from pydantic import SecretStr

        return {
            "kind": "chatwoot",
            "chatwoot_url": self.url,
            "chatwoot_inbox": SecretStr(INBOX),
            "webhook_secret": SecretStr(self.behaviour.webhook_secret),
            **changes,
        }

    def contents(self, conversation: int | str) -> list[str]:
        return [m["content"] for m in self.behaviour.conversations[int(conversation)]["messages"]]
