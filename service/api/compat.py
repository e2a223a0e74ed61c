"""An OpenAI-compatible face: POST /v1/chat/completions and GET /v1/models, so clients
that speak the OpenAI chat API (Open WebUI, LibreChat, the `openai` SDK) can use faqbot
as if it were a model. The last user message is answered with faqbot's own modes;
citations follow as a short sources list.

Off until FAQBOT_COMPAT__API_KEY is set (404 before that), and behind that key. The
conversation: the response names faqbot's session in the `X-Faqbot-Session` header and
in a `faqbot` field; a client continues it by sending the id back in `user` or in that
header (ids are minted by the server, as for /v1/chat).
"""

from __future__ import annotations

import hmac
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from service.api.chat import SESSION_ID
from service.api.deps import (
    ChatDep,
    ClientDep,
    LimiterDep,
    LimitsDep,
    MetricsDep,
    SettingsDep,
)
from service.api.errors import INVALID, TOO_LARGE, UNAVAILABLE, ErrorBody, Responses
from service.api.text import clean_text
from service.chat.limits import Overloaded
from service.config import Settings
from service.retrieval.store import IndexStoreError
from service.throttle.limits import RateLimited

router = APIRouter(prefix="/v1", tags=["openai-compatible"])
SESSION_HEADER = "X-Faqbot-Session"
BAD_INPUT = "invalid_request_error"
_SESSION = re.compile(SESSION_ID)  # a faqbot session id, as /v1/chat accepts it


def _compat_text(value: str) -> str:
    # The rule of every entry point (api/text.py), but an empty part is allowed here:
    # OpenAI clients send empty system or assistant messages.
    return clean_text(value) if value.strip() else ""


CompatText = Annotated[str, AfterValidator(_compat_text)]


class TextPart(BaseModel):
    type: Literal["text"]
    text: CompatText = Field(max_length=100_000)


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")  # name, tool_calls...: not used

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: CompatText | list[TextPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text for p in self.content)
        return self.content or ""


class CompletionRequest(BaseModel):
    # temperature, max_tokens and the like are accepted and ignored: faqbot decides how
    # it answers (canonical, extractive or generated text under its guard).
    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=200)
    messages: list[Message] = Field(min_length=1, max_length=200)
    stream: bool = False
    user: str | None = Field(default=None, max_length=200)


class OpenAIError(BaseModel):
    message: str
    type: str
    code: str | None = None
    param: str | None = None


class OpenAIErrorBody(BaseModel):
    error: OpenAIError


def _doc(description: str, model: Any = OpenAIErrorBody) -> dict[str, Any]:
    return {"model": model, "description": description}


COMPAT_ERRORS: Responses = {
    **TOO_LARGE,
    **INVALID,
    **UNAVAILABLE,
    400: _doc(
        "A conversation faqbot cannot answer, or a malformed request", OpenAIErrorBody | ErrorBody
    ),
    401: _doc("Missing or wrong API key"),
    404: _doc("The endpoint is off (no FAQBOT_COMPAT__API_KEY)", ErrorBody),
}


class CompatError(Exception):
    """An error in OpenAI's shape, which its SDKs turn into typed exceptions."""

    def __init__(
        self,
        status: int,
        message: str,
        kind: str,
        code: str | None = None,
        retry_after_s: int = 5,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s
        self.body = {"error": {"message": message, "type": kind, "code": code, "param": None}}


def _busy() -> CompatError:
    return CompatError(429, "faqbot is busy; retry in a few seconds.", "rate_limit_error")


async def compat_error_response(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CompatError)
    headers = {"Retry-After": str(exc.retry_after_s)} if exc.status == 429 else None
    return JSONResponse(exc.body, status_code=exc.status, headers=headers)


def require_key(settings: SettingsDep, authorization: str | None = Header(default=None)) -> None:
    """A dependency, so that the key is checked before the body is: a client without
    the key learns nothing about what a valid request looks like."""
    _authorise(settings, authorization)


def _authorise(settings: Settings, authorization: str | None) -> None:
    """404 while no key is configured (the endpoint is off), 401 for a wrong key."""
    key = settings.compat.api_key
    if key is None:
        raise HTTPException(status_code=404, detail="Not Found")  # the endpoint is off
    given = (authorization or "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), key.get_secret_value().encode()):
        raise CompatError(
            401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
        )


def _question(body: CompletionRequest, max_chars: int) -> str:
    last = body.messages[-1]
    text = last.text().strip()
    if last.role != "user" or not text:
        raise CompatError(400, "The last message must be a non-empty user message.", BAD_INPUT)
    if len(text) > max_chars:
        raise CompatError(400, f"The message is longer than {max_chars} characters.", BAD_INPUT)
    return text


def _session(body: CompletionRequest, header: str | None) -> str | None:
    for candidate in (header, body.user):
        if candidate and _SESSION.fullmatch(candidate):
            return candidate
    return None


def with_sources(answer: str, record: dict[str, Any]) -> str:
    """The answer, its sources as a short list, and any "did you mean" entries."""
    parts = [answer] if answer else []
    sources = [
        f"[{s['n']}] {s['title']}" + (f" — {s['url']}" if s.get("url") else "")
        for s in record.get("sources", [])
    ]
    if sources:
        parts.append("Sources:\n" + "\n".join(sources))
    suggestions = [f"- {s['title']}" for s in record.get("suggestions", [])]
    if suggestions:
        parts.append("Did you mean:\n" + "\n".join(suggestions))
    return "\n\n".join(parts)


@router.get("/models", dependencies=[Depends(require_key)], responses=COMPAT_ERRORS)
async def models(settings: SettingsDep) -> dict[str, Any]:
    name = settings.compat.model_name
    return {
        "object": "list",
        "data": [{"id": name, "object": "model", "created": 0, "owned_by": "faqbot"}],
    }


@router.post(
    "/chat/completions",
    response_model=None,
    dependencies=[Depends(require_key)],
    responses={
        **COMPAT_ERRORS,
        200: {
            "description": "A chat.completion, or with stream=true a text/event-stream of "
            "chat.completion.chunk objects ending with [DONE]",
            "content": {"text/event-stream": {}},
        },
        429: _doc("Busy; see Retry-After"),
    },
)
async def completions(
    body: CompletionRequest,
    request: Request,
    service: ChatDep,
    settings: SettingsDep,
    client: ClientDep,
    limits: LimitsDep,
    limiter: LimiterDep,
    metrics: MetricsDep,
    x_faqbot_session: str | None = Header(default=None),
) -> JSONResponse | StreamingResponse:
    question = _question(body, settings.chat.max_message_chars)
    session = _session(body, x_faqbot_session)
    try:
        await limits.check("chat", client, session)
    except RateLimited as exc:
        raise CompatError(
            429, exc.detail, "rate_limit_error", retry_after_s=exc.retry_after_s
        ) from None
    if limiter.full:
        metrics.busy.inc()
        raise _busy()
    created = int(time.time())
    name = settings.compat.model_name
    if body.stream:
        events = _stream(service.respond(question, session, client), request, name, created)
        return StreamingResponse(
            events, media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )
    try:
        record = await service.answer(question, session, client)
    except Overloaded as exc:
        raise CompatError(
            429, "faqbot is busy; retry in a few seconds.", "rate_limit_error"
        ) from exc
    request.state.turn = record
    return JSONResponse(
        _completion(record, name, created), headers={SESSION_HEADER: record["session_id"]}
    )


def _completion(record: dict[str, Any], model: str, created: int) -> dict[str, Any]:
    """A chat.completion object, as OpenAI's API returns it, with faqbot's extras."""
    return {
        "id": f"chatcmpl-{record['message_id']}",
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": with_sources(record["answer"], record),
                },
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "faqbot": _extra(record),
    }


def _extra(record: dict[str, Any]) -> dict[str, Any]:
    keys = ("mode", "session_id", "message_id", "sources")
    return {k: record[k] for k in keys}


async def _stream(
    events: AsyncIterator[Any], request: Request, name: str, created: int
) -> AsyncIterator[str]:
    """OpenAI's chunk stream. A chunk cannot be taken back: when faqbot's guard replaces
    an answer already begun (rare: only checked sentences are streamed), the replacement
    follows the part sent so far after a blank line."""
    chunk_id = f"chatcmpl-{int(time.time() * 1000)}"

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        data = {
            "id": chunk_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": name,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    sent = ""
    try:
        async for event in events:
            if event.kind == "token":
                sent += event.data["text"]
                yield chunk({"content": event.data["text"]})
            elif event.kind == "replace":
                text = event.data["text"]
                yield chunk({"content": ("\n\n" if sent else "") + text})
                sent += text
            elif event.kind == "done":
                record = event.data
                request.state.turn = record
                if not sent:  # canonical, abstained and cached answers arrive whole
                    yield chunk({"content": record["answer"]})
                tail = with_sources("", record)
                delta = {"content": "\n\n" + tail} if tail else {}
                yield chunk(delta, "stop", faqbot=_extra(record))
    except Overloaded:
        yield chunk({"content": "faqbot is busy; please retry in a few seconds."}, "stop")
    except IndexStoreError:
        yield chunk({"content": "The FAQ index is not ready; please try again later."}, "stop")
    yield "data: [DONE]\n\n"
