"""Chatwoot as the helpdesk: an API channel inbox, written to through Chatwoot's client
API (public/api/v1/inboxes/<inbox identifier>/...: a contact, a conversation, the
customer's messages), and read back through the webhook Chatwoot posts for the inbox
(message_created for an agent's reply, conversation_status_changed when it is resolved).

Chatwoot signs its webhooks (4.11.2 and later): X-Chatwoot-Signature is "sha256=" and
the hex HMAC-SHA256 of "<X-Chatwoot-Timestamp>.<raw body>" under the webhook's secret.
A call without a valid signature, or whose timestamp is more than five minutes off, is
refused: anyone who finds the URL could otherwise speak for an agent."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

import httpx

from service.helpdesk.base import (
    AgentReply,
    HelpdeskError,
    HelpdeskEvent,
    Resolved,
    Thread,
    Ticket,
)

TOLERANCE_S = 300
MAX_TEXT = 10_000  # an agent's reply longer than this is cut (the chat bubble's sake)


class WebhookRefused(ValueError):
    """Not a call from Chatwoot: unsigned, a wrong signature, or a stale timestamp."""


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


class ChatwootHelpdesk:
    name = "chatwoot"

    def __init__(
        self,
        base_url: str,
        inbox: str,
        *,
        hmac_token: str | None = None,
        timeout_s: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._inbox_path = f"/public/api/v1/inboxes/{inbox}"
        self._hmac_token = hmac_token
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), timeout=timeout_s, transport=transport
        )

    def open(self, ticket: Ticket) -> Thread:
        contact: dict[str, Any] = {
            "identifier": ticket.handoff_id,
            "name": ticket.name,
            "email": ticket.email,
            "custom_attributes": {"faqbot_reference": ticket.reference},
        }
        if self._hmac_token:  # the inbox enforces identity validation
            contact["identifier_hash"] = hmac.new(
                self._hmac_token.encode(), ticket.handoff_id.encode(), hashlib.sha256
            ).hexdigest()
        source_id = _field(self._post(f"{self._inbox_path}/contacts", contact), "source_id")
        base = f"{self._inbox_path}/contacts/{source_id}/conversations"
        attributes = {"custom_attributes": {"faqbot_reference": ticket.reference}}
        return Thread(_field(self._post(base, attributes), "id"), source_id)

    def post(self, thread: Thread, text: str) -> None:
        path = f"{self._inbox_path}/contacts/{thread.contact}/conversations/{thread.conversation}"
        _field(self._post(f"{path}/messages", {"content": text}), "id")

    def close(self) -> None:
        self._http.close()

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        try:
            response = self._http.post(path, json=body)
        except httpx.TimeoutException:
            raise HelpdeskError("Chatwoot did not answer in time") from None
        except httpx.HTTPError as exc:
            raise HelpdeskError(f"Chatwoot could not be reached ({type(exc).__name__})") from None
        if response.status_code == 404:
            raise HelpdeskError("Chatwoot knows no such inbox (check helpdesk.chatwoot_inbox)")
        if response.status_code in (401, 403):
            raise HelpdeskError(f"Chatwoot refused the call (HTTP {response.status_code})")
        if not 200 <= response.status_code < 300:
            raise HelpdeskError(f"Chatwoot answered HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise HelpdeskError("Chatwoot's answer is not JSON") from None


def _field(answer: Any, name: str) -> str:
    value = answer.get(name) if isinstance(answer, dict) else None
    if value is None or value == "":
        raise HelpdeskError(f"Chatwoot's answer has no {name}")
    return str(value)


def read_webhook(
    secret: str, headers: Mapping[str, str], body: bytes, now: float
) -> HelpdeskEvent | None:
    """The event a signed webhook call carries, or None for what faqbot does not act on
    (the customer's own messages, private notes, other events); WebhookRefused for a
    call that is not Chatwoot's."""
    stamp = headers.get("x-chatwoot-timestamp", "")
    given = headers.get("x-chatwoot-signature", "")
    if not stamp.isdigit() or not given:
        raise WebhookRefused("the call is not signed (X-Chatwoot-Signature, X-Chatwoot-Timestamp)")
    if abs(now - int(stamp)) > TOLERANCE_S:
        raise WebhookRefused("the signature's timestamp is too old or in the future")
    if not hmac.compare_digest(signature(secret, stamp, body), given):
        raise WebhookRefused("the signature does not match the body")
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    return _event(payload) if isinstance(payload, dict) else None


def _event(payload: dict[str, Any]) -> HelpdeskEvent | None:
    kind = payload.get("event")
    if kind == "message_created":
        return _reply(payload)
    resolved = payload.get("status") == "resolved" and payload.get("id") is not None
    if kind in ("conversation_status_changed", "conversation_resolved") and resolved:
        return Resolved(str(payload["id"]))
    return None


def _reply(payload: dict[str, Any]) -> AgentReply | None:
    """An agent's public text message; not the customer's (incoming: faqbot wrote it), a
    private note, an activity line or a bot's message."""
    found = payload.get("sender")
    sender: dict[str, Any] = found if isinstance(found, dict) else {}
    conversation = payload.get("conversation")
    content = payload.get("content")
    if (
        payload.get("message_type") not in ("outgoing", 1)
        or payload.get("private")
        or not isinstance(content, str)
        or not content.strip()
        or not isinstance(conversation, dict)
        or conversation.get("id") is None
        or payload.get("id") is None
        or sender.get("type") not in (None, "user")
    ):
        return None
    agent = str(sender.get("available_name") or sender.get("name") or "").strip()[:64]
    return AgentReply(
        str(conversation["id"]), str(payload["id"]), agent or "Support", content[:MAX_TEXT]
    )
