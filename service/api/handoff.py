"""POST /v1/handoff: a customer asks for a person; stored, and mailed when SMTP is set."""

from __future__ import annotations

import re
from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field, field_validator

from service.api.deps import ChatDep
from service.api.errors import POST_ERRORS, UNAVAILABLE
from service.api.text import ReadableText
from service.chat.store import ChatStoreError, StoredMessage
from service.db.guard import DatabaseUnavailable
from service.handoff import HandoffDesk, HandoffRequest

router = APIRouter(prefix="/v1", tags=["handoff"])
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,253}\.[A-Za-z]{2,24}")


class HandoffBody(BaseModel):
    name: ReadableText = Field(min_length=1, max_length=100)
    email: str = Field(max_length=254)
    message: ReadableText = Field(min_length=1, max_length=4000)
    session_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        v = v.strip()
        if not EMAIL.fullmatch(v):
            raise ValueError("not an email address")
        return v


class HandoffReceipt(BaseModel):
    status: Literal["received"]
    reference: str
    mailed: bool
    message: str


def _desk(request: Request) -> HandoffDesk:
    return request.app.state.handoff  # type: ignore[no-any-return]


@router.post(
    "/handoff",
    status_code=201,
    response_model=HandoffReceipt,
    responses={**POST_ERRORS, **UNAVAILABLE},
)
async def handoff(body: HandoffBody, service: ChatDep, request: Request) -> HandoffReceipt:
    conversation: list[StoredMessage] = []
    if body.session_id:
        try:
            conversation = await service.conversations.messages(body.session_id, limit=40) or []
        except ChatStoreError:
            conversation = []  # the request matters more than its context
    ticket = HandoffRequest(
        name=body.name,
        email=body.email,
        message=body.message,
        session_id=body.session_id if conversation else None,
        conversation=tuple(conversation),
    )
    try:
        mailed = await _desk(request).submit(ticket)
    except DatabaseUnavailable:
        raise HTTPException(
            503, detail="We could not take your request just now; please try again in a minute."
        ) from None
    return HandoffReceipt(
        status="received",
        reference=ticket.id[:8].upper(),
        mailed=mailed,
        message=f"Thanks, {body.name}. A person from our team will reply to {body.email}, "
        "usually within one working day.",
    )
