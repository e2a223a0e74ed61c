"""POST /v1/chat and /v1/chat/stream (Server-Sent Events)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from service.api.deps import ChatDep, ClientDep, LimiterDep, LimitsDep, SettingsDep
from service.api.errors import BUSY, POST_ERRORS, UNAVAILABLE, Responses, field_error
from service.api.text import ReadableText
from service.chat.limits import Overloaded
from service.chat.turn import TurnRecord
from service.retrieval.language import LANGUAGES, parse_accept_language
from service.retrieval.store import IndexStoreError

router = APIRouter(prefix="/v1", tags=["chat"])
log = logging.getLogger("faqbot.api")

# The schema's hard ceiling; the configured FAQBOT_CHAT__MAX_MESSAGE_CHARS applies below it.
MESSAGE_CEILING = 100_000
SESSION_ID = r"^[A-Za-z0-9_-]{1,64}$"


class ChatRequest(BaseModel):
    message: ReadableText = Field(min_length=1, max_length=MESSAGE_CEILING)
    session_id: str | None = Field(
        default=None,
        pattern=SESSION_ID,
        description="The session_id of an earlier answer. An unknown id starts a new "
        "session with a new id: ids are minted by the server.",
    )
    entry_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_.:-]{1,128}$",
        description="Answer this FAQ entry with its own text (a 'did you mean' choice).",
    )
    lang: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})?$",
        description="The page's language (for example the widget's setting); a hint "
        "only, used when a message is too short to tell. Accept-Language otherwise.",
    )


def language_hint(body: ChatRequest, request: Request) -> str | None:
    """The body's lang, else the browser's Accept-Language; supported languages only."""
    if body.lang:
        primary = body.lang.split("-")[0].lower()
        return primary if primary in LANGUAGES else None
    return parse_accept_language(request.headers.get("accept-language"), LANGUAGES)


def _check_length(body: ChatRequest, max_chars: int) -> None:
    if len(body.message) > max_chars:
        message = f"String should have at most {max_chars} characters"
        raise field_error("message", message, "string_too_long")


def _too_busy(request: Request, retry_after: int) -> HTTPException:
    request.app.state.metrics.busy.inc()
    return HTTPException(
        status_code=429,
        detail="The assistant is busy; please try again in a few seconds.",
        headers={"Retry-After": str(retry_after)},
    )


CHAT_ERRORS: Responses = {**POST_ERRORS, **BUSY, **UNAVAILABLE}


@router.post("/chat", response_model=TurnRecord, responses=CHAT_ERRORS)
async def chat(
    body: ChatRequest,
    service: ChatDep,
    settings: SettingsDep,
    client: ClientDep,
    limits: LimitsDep,
    limiter: LimiterDep,
    request: Request,
) -> dict[str, Any]:
    _check_length(body, settings.chat.max_message_chars)
    await limits.check("chat", client, body.session_id)
    if limiter.full:
        raise _too_busy(request, limiter.retry_after_s)
    record = await service.answer(
        body.message, body.session_id, client, body.entry_id, language_hint(body, request)
    )
    request.state.turn = record  # for the request's log line
    return record


SSE_EVENT = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "enum": ["sources", "token", "replace", "done", "error"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
    "required": ["event", "data"],
}


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post(
    "/chat/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": SSE_EVENT}},
            "description": "Server-Sent Events: sources, token..., (replace), done; or error. "
            "Each event's data is JSON.",
        },
        **CHAT_ERRORS,
    },
)
async def chat_stream(
    body: ChatRequest,
    service: ChatDep,
    settings: SettingsDep,
    client: ClientDep,
    limits: LimitsDep,
    limiter: LimiterDep,
    request: Request,
) -> StreamingResponse:
    _check_length(body, settings.chat.max_message_chars)
    await limits.check("chat", client, body.session_id)
    if limiter.full:
        raise _too_busy(request, limiter.retry_after_s)

    async def events() -> AsyncIterator[str]:
        # Once the 200 is sent, failures can only be reported as an event.
        try:
            async for event in service.respond(
                body.message, body.session_id, client, body.entry_id, language_hint(body, request)
            ):
                if event.kind == "done":
                    request.state.turn = event.data  # for the request's log line
                yield _sse(event.kind, event.data)
        except Overloaded as exc:
            request.app.state.metrics.busy.inc()
            yield _sse("error", {"status": 429, "retry_after": exc.retry_after_s})
        except IndexStoreError as exc:
            log.warning("index not ready: %s", exc)
            yield _sse("error", {"status": 503, "detail": "the FAQ index is not ready"})
        except Exception:
            log.exception("chat stream failed")
            yield _sse("error", {"status": 500, "detail": "internal error"})

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
