"""POST /v1/feedback: editors find weak or missing FAQ entries from the down-votes."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from service.api.deps import ClientDep, HistoryDep, LimitsDep, StoreDep
from service.api.errors import BUSY, POST_ERRORS, UNAVAILABLE, ErrorBody
from service.api.text import ReadableText
from service.chat.store import UnknownMessage

router = APIRouter(prefix="/v1", tags=["feedback"])


class FeedbackRequest(BaseModel):
    message_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    rating: Literal["up", "down"]
    comment: ReadableText | None = Field(default=None, max_length=2000)


class FeedbackStored(BaseModel):
    status: Literal["stored"]


@router.post(
    "/feedback",
    status_code=201,
    response_model=FeedbackStored,
    responses={
        404: {"model": ErrorBody, "description": "No answer with that message_id"},
        **POST_ERRORS,
        **BUSY,
        **UNAVAILABLE,
    },
)
async def feedback(
    body: FeedbackRequest,
    store: StoreDep,
    history: HistoryDep,
    client: ClientDep,
    limits: LimitsDep,
) -> dict[str, str]:
    await limits.check("feedback", client)
    # The answer may still be on its way to the database (written after it was sent).
    await history.settled(body.message_id, timeout_s=5.0)
    try:
        await store.add_feedback(body.message_id, body.rating, body.comment)
    except UnknownMessage:
        raise HTTPException(404, detail="no answer with that message_id") from None
    return {"status": "stored"}
