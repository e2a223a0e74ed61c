"""GET / (the chat page), POST /ask (its answer without JavaScript), /theme.css,
/widget.js (the one-tag embed) and the static ES modules under /static."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from service.api.deps import ChatDep, ClientDep, SettingsDep
from service.api.text import readable
from service.chat.limits import Overloaded
from service.chat.service import ChatService
from service.retrieval.store import IndexStoreError
from service.web.pages import ShownExchange, page
from service.web.theme import theme_css

STATIC = Path(__file__).parent / "static"
router = APIRouter(include_in_schema=False)
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@router.get("/", response_class=HTMLResponse)
async def index(settings: SettingsDep) -> HTMLResponse:
    return HTMLResponse(page(settings))


@router.post("/ask", response_class=HTMLResponse)
async def ask(
    request: Request, settings: SettingsDep, service: ChatDep, client: ClientDep
) -> HTMLResponse:
    """The form of the page, for browsers without JavaScript: a whole answer page."""
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    session = (form.get("session_id") or [""])[0]
    try:
        message = readable((form.get("message") or [""])[0])[: settings.chat.max_message_chars]
    except ValueError:
        return HTMLResponse(page(settings, session_id=session, notice="Please type a question."))
    record = await _answer(service, message, session if SESSION_ID.match(session) else None, client)
    if isinstance(record, str):
        return HTMLResponse(page(settings, session_id=session, notice=record), status_code=503)
    shown = ShownExchange(
        message,
        record["answer"],
        record["mode"],
        [(s["title"], s["url"]) for s in record["sources"]],
    )
    return HTMLResponse(page(settings, [shown], session_id=record["session_id"]))


async def _answer(
    service: ChatService, message: str, session: str | None, client: str
) -> dict[str, Any] | str:
    """The turn's record, or what to tell the customer when it could not be had."""
    try:
        return await service.answer(message, session, client)
    except Overloaded:
        return "The assistant is busy right now. Please try again in a few seconds."
    except IndexStoreError:
        return "The help center is being updated. Please try again in a minute."


@router.get("/theme.css")
async def theme(settings: SettingsDep) -> Response:
    return Response(theme_css(settings.web.brand_colour), media_type="text/css")


@router.get("/widget.js")
async def widget() -> FileResponse:
    return FileResponse(STATIC / "widget.js", media_type="text/javascript")


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
