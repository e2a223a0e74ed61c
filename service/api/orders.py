"""POST /v1/orders/lookup: the chat page's form, under the chat's verification rules."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field, field_validator, model_validator

from service.api.deps import ClientDep, ConversationsDep, OrdersDep, RetrieverDep, SettingsDep
from service.api.errors import BUSY, POST_ERRORS, UNAVAILABLE, ErrorBody, field_error
from service.orders.extract import OrderNumbers, clean_text
from service.orders.returns_window import returns_window
from service.orders.wording import describe_order, return_eligibility
from service.retrieval.language import LANGUAGES, parse_accept_language

router = APIRouter(prefix="/v1/orders", tags=["orders"])


class LookupRequest(BaseModel):
    order_number: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9#\- ]+$")
    email: str | None = Field(default=None, max_length=254)
    postal_code: str | None = Field(default=None, max_length=16)
    session_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[^@\s]{1,64}@[^@\s]{1,253}\.[A-Za-z]{2,24}", v):
            raise ValueError("not an email address")
        return v

    @field_validator("postal_code")
    @classmethod
    def _postal(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[A-Za-z0-9 -]{3,12}", v):
            raise ValueError("not a postal code")
        return v

    @model_validator(mode="after")
    def _contact(self) -> LookupRequest:
        if not (self.email or self.postal_code):
            raise ValueError("give the email address or the postal code used for the order")
        return self


class OrderItemOut(BaseModel):
    name: str
    quantity: int


class OrderEventOut(BaseModel):
    status: str
    at: str
    location: str | None


class LookupResponse(BaseModel):
    session_id: str
    order_number: str
    status: str
    placed_at: str
    expected_delivery: str | None
    delivered_at: str | None
    items: list[OrderItemOut]
    carrier: str | None
    tracking_number: str | None
    events: list[OrderEventOut]
    returns: str
    summary: str


def _order_number(numbers: OrderNumbers, given: str) -> str:
    """The number in the shop's numbering, or a 422 that says what one looks like."""
    found = numbers.find(given) or numbers.find(f"order {clean_text(given).strip()}")
    if len(found) != 1:
        message = f"expected an order number like {numbers.example}"
        raise field_error("order_number", message, "value_error")
    return found[0]


def _email_only() -> HTTPException:
    """A shop that verifies orders by the email address only: a postal code alone is a
    422 that names the missing field."""
    return field_error("email", "this shop verifies orders by the email address only", "missing")


@router.post(
    "/lookup",
    response_model=LookupResponse,
    responses={
        403: {
            "model": ErrorBody,
            "description": "Not verified: the same reply for a wrong detail and a missing order",
        },
        **POST_ERRORS,
        **BUSY,
        **UNAVAILABLE,
    },
)
async def lookup(
    body: LookupRequest,
    assistant: OrdersDep,
    conversations: ConversationsDep,
    retriever: RetrieverDep,
    settings: SettingsDep,
    client: ClientDep,
    request: Request,
) -> dict[str, Any]:
    if not settings.orders.allow_postal_code and not body.email:
        raise _email_only()
    number = _order_number(assistant.numbers, body.order_number)
    session, _ = await conversations.resolve(body.session_id)
    reply = await assistant.lookup(session, number, body.email, body.postal_code, client)
    if reply.outcome in ("locked", "order_locked", "rate_limited"):
        raise HTTPException(429, detail=reply.text, headers={"Retry-After": "60"})
    if reply.outcome == "unavailable":
        raise HTTPException(503, detail=reply.text)
    if reply.facts is None:
        # The same answer whether the order is missing or the email is wrong.
        raise HTTPException(403, detail=reply.text)
    f = reply.facts
    now = datetime.now(UTC)
    window = await returns_window(retriever, settings.orders.returns_window_days)
    # The form has no message to detect a language from: the browser's says it.
    lang = parse_accept_language(request.headers.get("accept-language"), LANGUAGES) or "en"
    return {
        "session_id": session,
        "order_number": f.order_number,
        "status": f.status,
        "placed_at": f.placed_at.isoformat(),
        "expected_delivery": f.expected_delivery.isoformat() if f.expected_delivery else None,
        "delivered_at": f.delivered_at.isoformat() if f.delivered_at else None,
        "items": [{"name": i.name, "quantity": i.quantity} for i in f.items],
        "carrier": f.carrier,
        "tracking_number": f.tracking_number,
        "events": [
            {"status": e.status, "at": e.occurred_at.isoformat(), "location": e.location}
            for e in f.events
        ],
        "returns": return_eligibility(f, window, now, lang),
        "summary": describe_order(f, window, now, lang),
    }
