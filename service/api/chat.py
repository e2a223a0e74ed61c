"""POST /v1/chat and /v1/chat/stream (Server-Sent Events)."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, field_validator

from service.api.deps import ChatDep
from service.chat.limits import Overloaded
from service.retrieval.store import IndexStoreError

router = APIRouter(prefix="/v1", tags=["chat"])

MAX_MESSAGE_CHARS = 2000


class ChatRequest(BaseModel):
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    session_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")

    @field_validator("message")
    @classmethod
    def _readable(cls, v: str) -> str:
        # Control characters carry no meaning for the FAQ and can hide text from people
        # reading the logs; drop them, keep newlines and tabs.
        cleaned = "".join(c for c in v if c in "\n\t" or unicodedata.category(c)[0] != "C").strip()
        if not cleaned:
            raise ValueError("message is empty")
        return cleaned


class Source(BaseModel):
    n: int
    id: str
    title: str
    url: str


class Timings(BaseModel):
    retrieve_ms: float | None
    llm_first_token_ms: float | None
    llm_total_ms: float | None
    total_ms: float | None


class ChatResponse(BaseModel):
    answer: str
    sources: list[Source]
    mode: str
    session_id: str
    message_id: str
    cached: bool
    timings: Timings


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _too_busy(retry_after: int) -> HTTPException:
    return HTTPException(
        status_code=429,
        detail="The assistant is busy; please try again in a few seconds.",
        headers={"Retry-After": str(retry_after)},
    )


@router.post("/chat", response_model=ChatResponse)
async def chat(body: ChatRequest, service: ChatDep, request: Request) -> dict[str, Any]:
    if service.limiter.full:
        raise _too_busy(service.limiter.retry_after_s)
    record: dict[str, Any] | None = None
    try:
        async for event in service.respond(body.message, body.session_id, _client(request)):
            if event.kind == "done":
                record = event.data
    except Overloaded as exc:
        raise _too_busy(exc.retry_after_s) from exc
    except IndexStoreError as exc:
        raise HTTPException(503, detail=f"the FAQ index is not ready: {exc}") from exc
    assert record is not None  # respond() always ends with "done"
    return record


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post("/chat/stream", response_class=StreamingResponse)
async def chat_stream(body: ChatRequest, service: ChatDep, request: Request) -> StreamingResponse:
    if service.limiter.full:
        raise _too_busy(service.limiter.retry_after_s)

    client = _client(request)

    async def events() -> AsyncIterator[str]:
        try:
            async for event in service.respond(body.message, body.session_id, client):
                yield _sse(event.kind, event.data)
        except Overloaded as exc:
            yield _sse("error", {"status": 429, "retry_after": exc.retry_after_s})
        except IndexStoreError as exc:
            yield _sse("error", {"status": 503, "detail": f"the FAQ index is not ready: {exc}"})

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
