"""POST /v1/handoff: a customer asks for a person; stored, and mailed when SMTP is set."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field, field_validator

from service.api.deps import ClientDep, ConversationsDep, LimitsDep, SettingsDep
from service.api.errors import BUSY, POST_ERRORS, UNAVAILABLE
from service.api.text import OneLineText, ReadableText, one_line
from service.chat.store import ChatStoreError, StoredMessage
from service.db.guard import DatabaseUnavailable
from service.handoff import HandoffDesk, HandoffRequest
from service.texts import phrase

router = APIRouter(prefix="/v1", tags=["handoff"])
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,253}\.[A-Za-z]{2,24}")


class HandoffBody(BaseModel):
    # One line: the name goes into the mail's Subject header.
    name: OneLineText = Field(min_length=1, max_length=100)
    email: str = Field(max_length=254)
    message: ReadableText = Field(min_length=1, max_length=4000)
    session_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    lang: str | None = Field(default=None, pattern=r"^[a-z]{2}$")  # the page's language

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        v = one_line(v)
        if not EMAIL.fullmatch(v):
            raise ValueError("not an email address")
        return v


class HandoffReceipt(BaseModel):
    status: Literal["received"]
    reference: str
    mailed: bool
    repeated: bool = Field(
        default=False, description="The conversation's earlier request, received already."
    )
    message: str


def _desk(request: Request) -> HandoffDesk:
    return request.app.state.handoff  # type: ignore[no-any-return]


@router.post(
    "/handoff",
    status_code=201,
    response_model=HandoffReceipt,
    responses={**POST_ERRORS, **BUSY, **UNAVAILABLE},
)
async def handoff(
    body: HandoffBody,
    conversations: ConversationsDep,
    request: Request,
    client: ClientDep,
    limits: LimitsDep,
    settings: SettingsDep,
) -> HandoffReceipt:
    await limits.check("handoff", client)
    conversation: list[StoredMessage] = []
    if body.session_id:
        try:
            conversation = await conversations.messages(body.session_id, limit=40) or []
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
        done = await _desk(request).submit(ticket)
    except DatabaseUnavailable:
        raise HTTPException(503, detail=phrase("handoff_unavailable", "en")) from None
    key = "handoff_repeated" if done.repeated else "handoff_received"
    if not done.repeated and settings.handoff.people_answer(datetime.now(UTC)):
        key = "handoff_received_live"  # opening hours: a person answers here
    return HandoffReceipt(
        status="received",
        reference=done.reference,
        mailed=done.mailed,
        repeated=done.repeated,
        message=phrase(
            key,
            body.lang or "en",
            name=body.name,
            email=body.email,
            minutes=str(settings.handoff.reply_minutes),
        )
        or "",
    )
