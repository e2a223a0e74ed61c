"""GET / (the chat page), POST /ask (its answer without JavaScript), /v1/shell (the
same markup for the widget's panel), /theme.css, /widget.js (the one-tag embed) and the
static ES modules under /static."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from service.api.deps import ChatDep, ClientDep, LimitsDep, SettingsDep
from service.api.text import readable
from service.chat.limits import Overloaded
from service.chat.service import ChatService
from service.retrieval.language import LANGUAGES, parse_accept_language
from service.retrieval.store import IndexStoreError
from service.throttle.limits import RateLimited
from service.web.pages import ShownExchange, page, shell, text
from service.web.theme import theme_css

STATIC = Path(__file__).parent / "static"
router = APIRouter(include_in_schema=False)
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def browser_language(request: Request) -> str | None:
    """The browser's first language the page has (Accept-Language), if any."""
    return parse_accept_language(request.headers.get("accept-language"), LANGUAGES)


@router.get("/", response_class=HTMLResponse)
async def index(request: Request, settings: SettingsDep) -> HTMLResponse:
    return HTMLResponse(page(settings, lang=browser_language(request) or "en"))


@router.get("/v1/shell", response_class=HTMLResponse)
async def chat_shell(
    settings: SettingsDep,
    lang: Annotated[str, Query(pattern=r"^[a-z]{2}$")] = "en",
    heading: Literal["h1", "h2"] = "h1",
) -> HTMLResponse:
    """The chat's markup for the widget's panel, in the page's language: the same the
    chat page is rendered with (pages.shell), so it is written once."""
    return HTMLResponse(shell(settings, lang, heading=heading))


@router.post("/ask", response_class=HTMLResponse)
async def ask(
    request: Request,
    settings: SettingsDep,
    service: ChatDep,
    client: ClientDep,
    limits: LimitsDep,
) -> HTMLResponse:
    """The form of the page, for browsers without JavaScript: a whole answer page."""
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    session = (form.get("session_id") or [""])[0]
    hint = browser_language(request)
    lang = hint or "en"
    try:
        message = readable((form.get("message") or [""])[0])[: settings.chat.max_message_chars]
    except ValueError:
        notice = text(lang, "typeQuestion")
        return HTMLResponse(page(settings, session_id=session, notice=notice, lang=lang))
    known = session if SESSION_ID.match(session) else None
    try:
        await limits.check("chat", client, known)
    except RateLimited as exc:
        busy = page(settings, session_id=session, notice=text(lang, "busyShortly"), lang=lang)
        return HTMLResponse(busy, 429, headers={"Retry-After": str(exc.retry_after_s)})
    record = await _answer(service, message, known, client, hint)
    if isinstance(record, str):
        shown_notice = page(settings, session_id=session, notice=record, lang=lang)
        return HTMLResponse(shown_notice, status_code=503)
    shown = ShownExchange(
        message,
        record["answer"],
        record["mode"],
        [(s["title"], s["url"]) for s in record["sources"]],
    )
    return HTMLResponse(page(settings, [shown], session_id=record["session_id"], lang=lang))


async def _answer(
    service: ChatService, message: str, session: str | None, client: str, hint: str | None
) -> dict[str, Any] | str:
    """The turn's record, or what to tell the customer when it could not be had. The
    browser's language is a hint for messages too short to tell their own."""
    lang = hint or "en"
    try:
        return await service.answer(message, session, client, lang_hint=hint)
    except Overloaded:
        return text(lang, "busyShortly")
    except IndexStoreError:
        return text(lang, "updating")


@router.get("/theme.css")
async def theme(settings: SettingsDep) -> Response:
    return Response(theme_css(settings.web.brand_colour), media_type="text/css")


@router.get("/widget.js")
async def widget() -> FileResponse:
    return FileResponse(STATIC / "widget.js", media_type="text/javascript")


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
