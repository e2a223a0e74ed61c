"""Reading Chatwoot's webhook: only signed, fresh calls are taken; only an agent's public
text reply and a resolved conversation are acted on."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from service.helpdesk.base import AgentReply, Resolved
from service.helpdesk.chatwoot import WebhookRefused, read_webhook

SECRET = "s3cret"
NOW = 1_780_000_000.0


def signed(
    payload: dict[str, Any], secret: str = SECRET, at: float = NOW
) -> tuple[dict[str, str], bytes]:
    body = json.dumps(payload).encode()
    stamp = str(int(at))
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"x-chatwoot-timestamp": stamp, "x-chatwoot-signature": f"sha256={mac}"}, body


def message(**changes: Any) -> dict[str, Any]:
    return {
        "event": "message_created",
        "id": 118,
        "content": "Your parcel left today.",
        "message_type": "outgoing",
        "private": False,
        "sender": {"id": 1, "name": "John", "type": "user"},
        "conversation": {"id": 10, "status": "open"},
        **changes,
    }


def test_an_agents_reply_is_read() -> None:
    headers, body = signed(message())
    assert read_webhook(SECRET, headers, body, NOW) == AgentReply(
        "10", "118", "John", "Your parcel left today."
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"message_type": "incoming"},  # the customer's own message, written by faqbot
        {"private": True},  # a private note between agents
        {"message_type": "activity", "content": "Conversation was marked resolved"},
        {"content": "   "},
        {"content": None, "content_type": "input_select"},
        {"sender": {"id": 2, "name": "Bot", "type": "agent_bot"}},
        {"conversation": None},
    ],
)
def test_what_is_not_an_agents_reply_is_ignored(changes: dict[str, Any]) -> None:
    headers, body = signed(message(**changes))
    assert read_webhook(SECRET, headers, body, NOW) is None


def test_a_resolved_conversation_is_read_and_other_events_ignored() -> None:
    headers, body = signed({"event": "conversation_status_changed", "id": 10, "status": "resolved"})
    assert read_webhook(SECRET, headers, body, NOW) == Resolved("10")
    headers, body = signed({"event": "conversation_status_changed", "id": 10, "status": "open"})
    assert read_webhook(SECRET, headers, body, NOW) is None
    headers, body = signed({"event": "contact_created", "id": 3})
    assert read_webhook(SECRET, headers, body, NOW) is None


def test_unsigned_forged_tampered_and_stale_calls_are_refused() -> None:
    headers, body = signed(message())
    with pytest.raises(WebhookRefused, match="not signed"):
        read_webhook(SECRET, {}, body, NOW)
    with pytest.raises(WebhookRefused, match="does not match"):
        read_webhook(SECRET, signed(message(), secret="guess")[0], body, NOW)
    with pytest.raises(WebhookRefused, match="does not match"):
        read_webhook(SECRET, headers, body.replace(b"today", b"never"), NOW)
    with pytest.raises(WebhookRefused, match="too old"):
        read_webhook(SECRET, headers, body, NOW + 301)
    with pytest.raises(WebhookRefused, match="too old"):
        read_webhook(SECRET, headers, body, NOW - 301)  # from the future


def test_a_signed_body_that_is_not_an_event_is_ignored() -> None:
    stamp = str(int(NOW))
    body = b"[1, 2"
    mac = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    headers = {"x-chatwoot-timestamp": stamp, "x-chatwoot-signature": f"sha256={mac}"}
    assert read_webhook(SECRET, headers, body, NOW) is None
