"""Error responses, registered once: clear, short, and never an echo of the input.

FastAPI's own validation handler echoes the offending input, which fails to encode for a
lone surrogate (a 500) and sends a 10 MB message back in the 422. Ours names the field
and the problem only. Failures of a part (chat database, index) are 503s that say which
part; details go to the log, not to the client.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import exc as sa_exc

from service.chat.limits import Overloaded
from service.chat.store import ChatStoreError
from service.retrieval.store import IndexStoreError
from service.throttle.limits import RateLimited

# Down, hung past the connect or statement timeout, or out of pooled connections.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
)

log = logging.getLogger("faqbot.api")


def field_error(field: str, msg: str, kind: str) -> HTTPException:
    """A 422 naming the body's field, shaped as FastAPI's own validation errors."""
    return HTTPException(422, detail=[{"loc": ["body", field], "msg": msg, "type": kind}])


class ErrorBody(BaseModel):
    detail: str


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorBody(BaseModel):
    detail: list[ValidationIssue]


def _doc(description: str, model: type[BaseModel] = ErrorBody) -> dict[str, Any]:
    return {"model": model, "description": description}


Responses = dict[int | str, dict[str, Any]]

# For the routes' `responses=`: what each status means, so the schema is complete.
BAD_REQUEST: Responses = {400: _doc("Malformed request (e.g. a broken Content-Length header)")}
TOO_LARGE: Responses = {413: _doc("Request body over the configured limit")}
INVALID: Responses = {
    422: _doc("Invalid input; names the field, never echoes it", ValidationErrorBody)
}
BUSY: Responses = {429: _doc("Too many requests or attempts; see Retry-After")}
UNAVAILABLE: Responses = {503: _doc("A part the answer needs is down (index or database)")}
POST_ERRORS: Responses = {**BAD_REQUEST, **TOO_LARGE, **INVALID}


def _safe(text: str) -> str:
    # Messages are ours, but a pydantic message can quote a value: keep it short and
    # encodable (lone surrogates would break the JSON encoder).
    return text.encode("utf-8", "replace").decode("utf-8")[:200]


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    issues = [
        {
            "loc": [p if isinstance(p, int) else _safe(str(p)) for p in e.get("loc", ())],
            "msg": _safe(str(e.get("msg", "invalid"))),
            "type": _safe(str(e.get("type", "value_error"))),
        }
        for e in exc.errors()[:20]
    ]
    return JSONResponse({"detail": issues}, status_code=422)


async def _chat_store(_: Request, exc: Exception) -> JSONResponse:
    log.warning("chat database error: %s", exc)
    return JSONResponse(
        {"detail": "the chat history is temporarily unavailable; please try again later"},
        status_code=503,
    )


async def _index(_: Request, exc: Exception) -> JSONResponse:
    log.warning("index not ready: %s", exc)
    return JSONResponse({"detail": "the FAQ index is not ready"}, status_code=503)


async def _overloaded(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Overloaded)
    return JSONResponse(
        {"detail": "The assistant is busy; please try again in a few seconds."},
        status_code=429,
        headers={"Retry-After": str(exc.retry_after_s)},
    )


async def _rate_limited(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimited)
    return JSONResponse(
        {"detail": exc.detail},
        status_code=429,
        headers={"Retry-After": str(exc.retry_after_s)},
    )


async def _database(request: Request, exc: Exception) -> JSONResponse:
    """A database that is down, hung past its timeouts or refusing connections, on a path
    without a breaker of its own (the console): 503, not an internal error."""
    log.warning("database unavailable on %s: %s", request.url.path, type(exc).__name__)
    return JSONResponse(
        {"detail": "the database is temporarily unavailable; please try again later"},
        status_code=503,
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s", request.url.path, exc_info=exc)
    return JSONResponse({"detail": "internal error"}, status_code=500)


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(ChatStoreError, _chat_store)
    app.add_exception_handler(IndexStoreError, _index)
    app.add_exception_handler(Overloaded, _overloaded)
    app.add_exception_handler(RateLimited, _rate_limited)
    for unavailable in DATABASE_UNAVAILABLE:
        app.add_exception_handler(unavailable, _database)
    app.add_exception_handler(Exception, _unexpected)
