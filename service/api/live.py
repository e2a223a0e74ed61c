"""GET /v1/sessions/<id>/events: a person's replies to this conversation, as Server-Sent
Events, for the chat page and the widget (EventSource reconnects by itself and sends
Last-Event-ID, so nothing is missed across a reconnect or a reload). Events: ``message``
(an agent's reply, id = its number) and ``released`` (the person handed the conversation
back to the bot or closed it)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request
from fastapi.responses import StreamingResponse

from service.api.content import SESSION_ID
from service.api.deps import ConversationsDep, LiveDep, SettingsDep
from service.live_handoff import LiveHandoffs

log = logging.getLogger("faqbot.api")
router = APIRouter(prefix="/v1", tags=["chat"])
POLL_S = 1.0
STREAM_S = 600.0  # then the page reconnects (and the server's workers turn over)
HEARTBEAT_S = 15.0
SEEN_S = 10.0  # how often the stream notes that the customer's page is listening


async def _quietly(call: Any) -> None:
    try:
        await call
    except Exception as exc:  # the database is down: the next note will do
        log.warning("live events: %s", type(exc).__name__)


def _event(kind: str, data: dict[str, Any], event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data)}\n\n"


@router.get(
    "/sessions/{session_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}},
        404: {"description": "No such conversation"},
    },
)
async def events(
    request: Request,
    live: LiveDep,
    conversations: ConversationsDep,
    settings: SettingsDep,
    session_id: str = SESSION_ID,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    if await conversations.messages(session_id, limit=1) is None:
        raise HTTPException(404, detail="no such conversation")
    timeout = settings.db.timeout_s * 5
    # A reconnect: what it has not seen. A new page: after the replies its history has,
    # found in the stream's first poll (a store that does not answer then is retried).
    after = int(last_event_id) if last_event_id and last_event_id.isdigit() else None

    return StreamingResponse(
        _stream(request, live, session_id, after, timeout),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _stream(
    request: Request, live: LiveHandoffs, session_id: str, after: int | None, timeout: float
) -> AsyncIterator[str]:
    """Polls for the agent's replies after ``after``; says when the person lets go."""
    started = last_beat = time.monotonic()
    last_seen = 0.0
    held = None
    yield "retry: 2000\n\n"  # reconnect after 2 s
    while time.monotonic() - started < STREAM_S and not await request.is_disconnected():
        try:
            if after is None:
                after = await asyncio.wait_for(asyncio.to_thread(live.latest, session_id), timeout)
            found = await asyncio.wait_for(
                asyncio.to_thread(live.after, session_id, after), timeout
            )
            holder = await asyncio.wait_for(asyncio.to_thread(live.holder, session_id), timeout)
        except Exception as exc:  # the database is down: try again, the page waits
            log.warning("live events: %s", type(exc).__name__)
            found, holder = [], held
        for message in found:
            after = message.id
            yield _event("message", message.as_dict(), message.id)
        if held is not None and holder is None:
            yield _event("released", {"agent": held})
        held = holder
        if time.monotonic() - last_seen > SEEN_S:
            last_seen = time.monotonic()
            await _quietly(asyncio.wait_for(asyncio.to_thread(live.seen, session_id), timeout))
        if time.monotonic() - last_beat > HEARTBEAT_S:
            last_beat = time.monotonic()
            yield ": still here\n\n"
        await asyncio.sleep(POLL_S)
