"""POST /v1/feedback: editors find weak or missing FAQ entries from the down-votes."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from service.api.deps import StoreDep
from service.db.chat_store import UnknownMessage

router = APIRouter(prefix="/v1", tags=["feedback"])


class FeedbackRequest(BaseModel):
    message_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    rating: Literal["up", "down"]
    comment: str | None = Field(default=None, max_length=2000)


@router.post("/feedback", status_code=201)
async def feedback(body: FeedbackRequest, store: StoreDep) -> dict[str, str]:
    try:
        await store.add_feedback(body.message_id, body.rating, body.comment)
    except UnknownMessage:
        raise HTTPException(404, detail=f"no answer with message_id {body.message_id}") from None
    return {"status": "stored"}
