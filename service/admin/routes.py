"""The console's JSON API under /admin/api (and the console page, GET /admin).

Off unless ``admin.enabled``. Every route but login needs a session cookie (401 without);
editor routes refuse other roles with 403 (ops may do all an editor may); every request
that changes something must carry the session's CSRF token in ``X-CSRF-Token`` (403
without). The cookie is HttpOnly and SameSite=Strict, Secure over https. Each change is
written to the audit log.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import re
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import BaseModel, Field, StringConstraints, field_validator

from service.admin import (
    analytics,
    conversations,
    exports,
    faq_files,
    inbox,
    outcomes,
    thresholds,
)
from service.admin.accounts import AdminUser, LoginsBusy, PasswordChecks, Role
from service.admin.deps import Console, ConsoleDep, RequestsDep
from service.admin.publishing import ingest_args, run_json
from service.api.deps import (
    ChatSettingsDep,
    ClientDep,
    LanguageDep,
    LimitsDep,
    RetrieverDep,
    SettingsDep,
)
from service.api.text import OneLineText, ReadableText, one_line
from service.chat.trace import build_trace
from service.config import Settings
from service.retrieval.evaluation import load_queries
from service.retrieval.store import IndexStore

COOKIE = "faqbot_admin"
router = APIRouter(prefix="/admin", include_in_schema=False)


@dataclass(frozen=True)
class Caller:
    user: AdminUser
    csrf: str
    token: str


async def _caller(request: Request, console: ConsoleDep) -> Caller:
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 200:
        raise HTTPException(401, "log in first")
    found = await asyncio.to_thread(console.accounts.session, token, datetime.now(UTC))
    if found is None:
        raise HTTPException(401, "your session has ended: log in again")
    user, csrf = found
    if request.method not in ("GET", "HEAD") and request.headers.get("x-csrf-token") != csrf:
        raise HTTPException(403, "missing or wrong CSRF token")
    return Caller(user, csrf, token)


def _role(needed: Role) -> Any:
    async def check(caller: Annotated[Caller, Depends(_caller)]) -> Caller:
        if not caller.user.may(needed):
            raise HTTPException(403, f"this needs the {needed} role")
        return caller

    return Depends(check)


Editor = Annotated[Caller, _role("editor")]
Ops = Annotated[Caller, _role("ops")]
Agent = Annotated[Caller, _role("agent")]


class LoginBody(BaseModel):
    name: OneLineText = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)

    @field_validator("password")
    @classmethod
    def _encodable(cls, v: str) -> str:
        one_line(v)  # refuses surrogates and control characters; the password is kept as typed
        return v


@router.post("/api/login")
async def login(
    body: LoginBody,
    request: Request,
    response: Response,
    client: ClientDep,
    limits: LimitsDep,
    console: ConsoleDep,
    settings: SettingsDep,
) -> dict[str, str]:
    accounts = console.accounts
    await limits.check("login", client)
    checks: PasswordChecks = console.checks
    try:
        done = await checks.run(accounts.login, body.name, body.password, datetime.now(UTC), client)
    except LoginsBusy:
        raise HTTPException(429, "too many logins at once", headers={"Retry-After": "2"}) from None
    if done is None:
        # the same answer for a wrong name, a wrong password and a locked account
        raise HTTPException(401, "wrong name or password, or the account is locked for a while")
    response.set_cookie(
        COOKIE,
        done.token,
        max_age=settings.admin.session_hours * 3600,
        path="/admin",
        httponly=True,
        samesite="strict",
        secure=_secure(request, settings),
    )
    await checks.run(accounts.audit, done.user.name, "login", {"address": client})
    return {"user": done.user.name, "role": done.user.role, "csrf": done.csrf}


def _secure(request: Request, settings: Settings) -> bool:
    mode = settings.admin.secure_cookie
    if mode != "auto":
        return mode == "always"
    # https behind a trusted proxy that ended TLS too (ClientAddress sets the scheme)
    return request.url.scheme == "https"


@router.post("/api/logout", status_code=204)
async def logout(caller: Annotated[Caller, Depends(_caller)], console: ConsoleDep) -> Response:
    await asyncio.to_thread(console.accounts.logout, caller.token)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/admin")
    return response


@router.get("/api/me")
async def me(caller: Annotated[Caller, Depends(_caller)]) -> dict[str, str]:
    return {"user": caller.user.name, "role": caller.user.role, "csrf": caller.csrf}


@router.get("/api/inbox")
async def gap_inbox(
    caller: Editor, console: ConsoleDep, settings: SettingsDep, live: RetrieverDep
) -> dict[str, Any]:
    since = datetime.now(UTC) - timedelta(days=settings.admin.inbox_days)
    engine = console.engine
    retriever = await asyncio.to_thread(live)
    model = retriever.manifest.model_id
    gaps = await asyncio.to_thread(inbox.load_gaps, engine, since, model)
    cache: inbox.VectorCache = console.vectors

    def embed(texts: list[str]) -> np.ndarray:
        return cache.embed(texts, lambda new: np.asarray(retriever.embed_queries(new)))

    gaps = await asyncio.to_thread(inbox.still_open, gaps, retriever, embed)

    clusters = await asyncio.to_thread(
        inbox.cluster_gaps, gaps, embed, settings.admin.cluster_distance
    )
    # the vectors the answers kept, else the cache's: nothing is embedded twice
    vectors = await asyncio.to_thread(inbox.question_vectors, gaps, embed)
    await asyncio.to_thread(inbox.suggest_entries, clusters, retriever, vectors)
    return {"questions": len(gaps), "clusters": [c.as_dict() for c in clusters]}


@router.get("/api/entries")
async def entries(caller: Editor, live: RetrieverDep) -> dict[str, Any]:
    retriever = await asyncio.to_thread(live)
    return {
        "version": retriever.version,
        "entries": [
            {"id": e, "title": info.title, "category": info.category}
            for e, info in retriever.manifest.entries.items()
        ],
    }


# The ids of stored answers (api/chat.py mints them)
MessageId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class AttachBody(BaseModel):
    entry_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
    questions: list[ReadableText] = Field(min_length=1, max_length=200)
    ids: list[MessageId] = Field(default_factory=list, max_length=2000)


class QuestionsBody(BaseModel):
    questions: list[ReadableText] = Field(min_length=1, max_length=200)
    ids: list[MessageId] = Field(default_factory=list, max_length=2000)


class DismissBody(BaseModel):
    ids: list[MessageId] = Field(min_length=1, max_length=2000)


@router.post("/api/inbox/attach")
async def attach(
    body: AttachBody, caller: Editor, console: ConsoleDep, settings: SettingsDep
) -> dict[str, Any]:
    """The questions become "Also asked:" phrasings of the entry, in its markdown file."""
    faq_dir = settings.admin.faq_dir
    path = await _edit(faq_files.add_phrasings, faq_dir, body.entry_id, body.questions)
    await _done(
        console,
        caller,
        "attach",
        body.ids,
        entry=body.entry_id,
        path=str(path),
        questions=body.questions,
    )
    return {"path": str(path), "dismissed": len(body.ids)}


class DraftBody(BaseModel):
    entry_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
    question: ReadableText = Field(min_length=3, max_length=500)
    answer: ReadableText = Field(min_length=1, max_length=20_000)
    questions: list[ReadableText] = Field(default_factory=list, max_length=200)
    file: str = Field(default="drafts.md", pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.md$")
    ids: list[MessageId] = Field(default_factory=list, max_length=2000)


@router.post("/api/inbox/draft")
async def draft(
    body: DraftBody, caller: Editor, console: ConsoleDep, settings: SettingsDep
) -> dict[str, Any]:
    """A new entry from a cluster: its question, the editor's answer, the cluster's
    questions as its phrasings."""
    faq_dir = settings.admin.faq_dir
    path = await _edit(
        faq_files.add_entry,
        faq_dir,
        body.entry_id,
        body.question,
        body.answer,
        body.questions,
        body.file,
    )
    await _done(console, caller, "draft", body.ids, entry=body.entry_id, path=str(path))
    return {"path": str(path), "dismissed": len(body.ids)}


@router.post("/api/inbox/decline")
async def decline(
    body: QuestionsBody, caller: Editor, console: ConsoleDep, settings: SettingsDep
) -> dict[str, Any]:
    """Won't answer: the questions become decline examples (the next ingest learns them)."""
    faq_dir = settings.admin.faq_dir
    path = await _edit(faq_files.add_declines, faq_dir, body.questions)
    await _done(console, caller, "decline", body.ids, path=str(path), questions=body.questions)
    return {"path": str(path), "dismissed": len(body.ids)}


@router.post("/api/inbox/dismiss")
async def dismiss_questions(
    body: DismissBody, caller: Editor, console: ConsoleDep
) -> dict[str, Any]:
    await _done(console, caller, "dismiss", body.ids)
    return {"dismissed": len(body.ids)}


@router.post("/api/replay", response_model=None)
async def replay_candidate(
    caller: Editor, console: ConsoleDep, settings: SettingsDep, stream: bool = False
) -> dict[str, Any] | StreamingResponse:
    """What the next version would change for the gate's and the customers' questions.
    With stream: NDJSON, the build's progress lines as they come ({"line"}), then
    {"result": ...} and {"exit": code}, for a console that shows progress on a large FAQ."""
    admin = settings.admin
    args = ingest_args(
        admin.faq_dir, admin.gate_questions, "--replay", "--json", "--days", str(admin.inbox_days)
    )
    if stream:
        return _streamed(console, settings, caller, "replay", args, results=True)
    code, result, lines = await run_json(console.runner, settings, args)
    await asyncio.to_thread(console.accounts.audit, caller.user.name, "replay", {"exit": code})
    if code != 0 or result is None:
        raise HTTPException(422, "\n".join(lines[-20:]) or "the replay failed")
    return {**result, "log": lines[-20:]}


@router.post("/api/publish")
async def publish(
    caller: Editor, console: ConsoleDep, settings: SettingsDep, accept_regressions: bool = False
) -> StreamingResponse:
    """The ingest with its quality gate, its output streamed as NDJSON lines. A gate
    question that would go wrong refuses it, unless the editor confirmed the regressions
    (a second click: accept_regressions, audited as publish-accepting-regressions)."""
    admin = settings.admin
    extra = ["--accept-regressions"] if accept_regressions else []
    args = ingest_args(
        admin.faq_dir, admin.gate_questions, *extra, conversations=admin.gate_conversations
    )
    action = "publish-accepting-regressions" if accept_regressions else "publish"
    return _streamed(console, settings, caller, action, args)


@router.post("/api/rollback")
async def rollback(caller: Editor, console: ConsoleDep, settings: SettingsDep) -> StreamingResponse:
    return _streamed(console, settings, caller, "rollback", ["ingest", "--rollback"])


def _streamed(
    console: Console,
    settings: Settings,
    caller: Caller,
    action: str,
    args: list[str],
    results: bool = False,
) -> StreamingResponse:
    """The command's lines as NDJSON; with results, a printed JSON object is passed on as
    {"result": ...} instead of as a line."""
    accounts, runner = console.accounts, console.runner

    async def events() -> AsyncIterator[bytes]:
        async for event in runner(args, settings):
            if "exit" in event:
                await asyncio.to_thread(accounts.audit, caller.user.name, action, event)
            elif results and event["line"].startswith("{"):
                with contextlib.suppress(json.JSONDecodeError):
                    event = {"result": json.loads(event["line"])}
            yield (json.dumps(event) + "\n").encode()

    return StreamingResponse(events(), media_type="application/x-ndjson")


@router.get("/api/export/{name}.csv")
async def export(name: str, caller: Editor, console: ConsoleDep, settings: SettingsDep) -> Response:
    """feedback.csv, unanswered.csv or outcomes.csv (per day), for the inbox's period."""
    makers = {
        "feedback": exports.feedback_csv,
        "unanswered": exports.unanswered_csv,
        "outcomes": outcomes.outcomes_csv,
    }
    if name not in makers:
        raise HTTPException(404, "no such export")
    since = datetime.now(UTC) - timedelta(days=settings.admin.inbox_days)
    text = await asyncio.to_thread(makers[name], console.engine, since)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="faqbot-{name}.csv"'},
    )


@router.get("/api/conversations")
async def find_conversations(
    caller: Editor,
    console: ConsoleDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    mode: Annotated[str | None, Query(pattern=r"^[a-z_]{1,16}$")] = None,
    rating: Annotated[str | None, Query(pattern=r"^(up|down)$")] = None,
    days: Annotated[int, Query(ge=1, le=365)] = 30,
) -> dict[str, Any]:
    since = datetime.now(UTC) - timedelta(days=days)
    engine = console.engine
    found = await asyncio.to_thread(conversations.find, engine, since, q, mode, rating)
    return {"conversations": found}


@router.get("/api/conversations/{session_id}")
async def conversation(session_id: str, caller: Editor, console: ConsoleDep) -> dict[str, Any]:
    """Each turn with its mode and why: candidates and scores, the threshold in force,
    the prompt sent (with its token counts), timings."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", session_id):
        raise HTTPException(404, "no such conversation")
    found = await asyncio.to_thread(conversations.turns, console.engine, session_id)
    if not found:
        raise HTTPException(404, "no such conversation")
    return {"session_id": session_id, "turns": found}


class AskBody(BaseModel):
    question: ReadableText = Field(min_length=1, max_length=2000)


@router.post("/api/ask")
async def ask(
    body: AskBody, caller: Editor, live: RetrieverDep, language: LanguageDep
) -> dict[str, Any]:
    """The trace of a typed question, as `faqbot ask` shows it (retrieval only)."""
    retriever = await asyncio.to_thread(live)
    detected = language.of(body.question, [], None)
    lang = detected if detected in retriever.languages else "en"
    result = await asyncio.to_thread(retriever.search, body.question, None, lang)
    return {"question": body.question, "trace": build_trace(result, None, detected)}


class ThresholdBody(BaseModel):
    abstain_threshold: float = Field(ge=0.0, le=1.0)
    canonical_threshold: float = Field(ge=0.0, le=1.0)
    canonical_margin: float = Field(ge=0.0, le=5.0)


@router.get("/api/thresholds")
async def thresholds_in_force(caller: Editor, live: RetrieverDep) -> dict[str, Any]:
    retriever = await asyncio.to_thread(live)
    return {**asdict(thresholds.in_force(retriever)), "source": retriever.thresholds_source}


@router.post("/api/thresholds/simulate")
async def simulate_thresholds(
    body: ThresholdBody,
    caller: Editor,
    console: ConsoleDep,
    settings: SettingsDep,
    live: RetrieverDep,
    chat: ChatSettingsDep,
    language: LanguageDep,
) -> dict[str, Any]:
    """How answers to the inbox period's questions would change, and the gate's figures."""
    since = datetime.now(UTC) - timedelta(days=settings.admin.inbox_days)
    engine = console.engine
    questions = await asyncio.to_thread(inbox.recent_questions, engine, since)
    gate_file = settings.admin.gate_questions
    gate = load_queries(gate_file) if gate_file is not None and gate_file.is_file() else []
    retriever = await asyncio.to_thread(live)
    return await asyncio.to_thread(
        thresholds.simulate,
        retriever,
        chat,
        questions,
        gate,
        thresholds.Thresholds(**body.model_dump()),
        language.detector,
    )


@router.post("/api/thresholds")
async def save_thresholds(body: ThresholdBody, caller: Ops, console: ConsoleDep) -> dict[str, Any]:
    """Saved beside the index: every replica applies them within a second, no restart.
    An explicit FAQBOT_RETRIEVAL__ABSTAIN_THRESHOLD still wins over them."""
    store: IndexStore = console.index_store
    values = {**body.model_dump(), "by": caller.user.name, "at": datetime.now(UTC).isoformat()}
    await asyncio.to_thread(store.save_thresholds, values)
    await asyncio.to_thread(console.accounts.audit, caller.user.name, "thresholds", values)
    return values


@router.get("/api/outcomes")
async def outcome_days(
    caller: Editor, console: ConsoleDep, days: Annotated[int, Query(ge=1, le=365)] = 30
) -> dict[str, Any]:
    """What became of the conversations, per day (service/admin/outcomes.py says what
    each figure can over-count)."""
    since = datetime.now(UTC) - timedelta(days=days)
    return {"days": await asyncio.to_thread(outcomes.daily, console.engine, since)}


@router.get("/api/analytics")
async def analytics_days(
    caller: Editor, console: ConsoleDep, days: Annotated[int, Query(ge=1, le=365)] = 30
) -> dict[str, Any]:
    since = datetime.now(UTC) - timedelta(days=days)
    return {"days": await asyncio.to_thread(analytics.daily, console.engine, since)}


@router.get("/api/charts.png")
async def charts(
    caller: Editor, console: ConsoleDep, days: Annotated[int, Query(ge=1, le=365)] = 30
) -> Response:
    since = datetime.now(UTC) - timedelta(days=days)
    figures = await asyncio.to_thread(analytics.daily, console.engine, since)
    png = await asyncio.to_thread(analytics.chart_png, figures)
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.get("/api/requests")
async def order_requests(caller: Editor, desk: RequestsDep) -> dict[str, Any]:
    """Requests customers confirmed about their orders, newest first, with how their
    delivery to the shop went (pending, delivered, failed, kept: nowhere to send it)."""
    found = await asyncio.to_thread(desk.recent) if desk is not None else []
    return {"requests": found, "enabled": desk is not None}


@router.get("/api/audit")
async def audit(caller: Ops, console: ConsoleDep) -> dict[str, Any]:
    return {"events": await asyncio.to_thread(console.accounts.audit_trail)}


async def _edit(fn: Any, faq_dir: Path, *args: Any) -> Path:
    try:
        path: Path = await asyncio.to_thread(fn, faq_dir, *args)
        return path
    except faq_files.FaqEditError as exc:
        raise HTTPException(422, str(exc)) from None


async def _done(
    console: Console, caller: Caller, action: str, ids: list[str], **detail: Any
) -> None:
    engine = console.engine
    name = caller.user.name
    if ids:
        await asyncio.to_thread(inbox.dismiss, engine, ids, name, datetime.now(UTC))
    await asyncio.to_thread(console.accounts.audit, name, action, {**detail, "ids": len(ids)})


@router.get("", response_class=HTMLResponse)
async def console() -> HTMLResponse:
    return HTMLResponse(_console_page())


@functools.cache
def _console_page() -> str:
    """The page is a static file: markup in HTML, the behaviour in static/admin.js."""
    return (Path(__file__).parent / "console.html").read_text(encoding="utf-8")


def mount_admin(app: FastAPI, settings: Settings) -> None:
    """The console and its API, when enabled; otherwise nothing under /admin exists.
    Its parts (service/admin/deps.py) are built and closed in the app's lifespan."""
    if settings.admin.enabled:
        from service.admin.agent_routes import agents  # it uses this module's checks

        app.include_router(router)
        app.include_router(agents)
