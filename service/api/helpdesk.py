"""POST /v1/helpdesk/chatwoot: Chatwoot's webhook for the inbox faqbot hands customers
to. An agent's reply reaches the customer's page (and the mail, when they left) as a
console agent's does; a resolved conversation gives the customer back to the bot.

Only signed calls are taken (service/helpdesk/chatwoot.py): 401 otherwise. 503 when
the database cannot take the reply now, so Chatwoot delivers it again; a reply that
arrives twice is kept once."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from service.api.deps import LiveDep, SettingsDep
from service.api.text import UnreadableText, clean_text, one_line
from service.helpdesk.base import AgentReply, HelpdeskEvent
from service.helpdesk.chatwoot import WebhookRefused, read_webhook
from service.live_handoff import HelpdeskReply, LiveHandoffs
from service.reply_mail import mail_reply

log = logging.getLogger("faqbot.helpdesk")
router = APIRouter(prefix="/v1/helpdesk", include_in_schema=False)


@router.post("/chatwoot")
async def chatwoot_webhook(
    request: Request, settings: SettingsDep, live: LiveDep
) -> dict[str, Any]:
    helpdesk = settings.helpdesk
    if helpdesk.kind != "chatwoot" or helpdesk.webhook_secret is None:
        raise HTTPException(404, detail="no Chatwoot helpdesk is configured")
    body = await request.body()
    secret = helpdesk.webhook_secret.get_secret_value()
    try:
        event = read_webhook(secret, request.headers, body, time.time())
    except WebhookRefused as exc:
        log.warning("Chatwoot webhook refused: %s", exc)
        raise HTTPException(401, detail=str(exc)) from None
    if event is None:
        return {"status": "ignored"}
    try:
        taken = await asyncio.wait_for(_take(live, event), settings.db.timeout_s * 5)
    except Exception as exc:  # the database is down, slow or refused: Chatwoot retries
        log.warning("Chatwoot webhook not taken now: %s", type(exc).__name__)
        raise HTTPException(503, detail="try again later") from None
    if isinstance(taken, HelpdeskReply) and taken.customer_left:
        text = taken.message.text
        await mail_reply(live, settings, taken.handoff_id, taken.message.id, text)
    return {"status": "taken" if taken else "ignored"}


async def _take(live: LiveHandoffs, event: HelpdeskEvent) -> HelpdeskReply | bool | None:
    if not isinstance(event, AgentReply):
        return await asyncio.to_thread(live.resolved_there, "chatwoot", event.conversation)
    try:
        event = replace(event, text=clean_text(event.text), agent=_agent_name(event.agent))
    except UnreadableText:
        return None  # nothing a customer could read
    return await asyncio.to_thread(live.from_helpdesk, "chatwoot", event)


def _agent_name(name: str) -> str:
    """The name shown to the customer and kept with the reply: one readable line, else
    the word for any agent (a name is no reason to lose the reply)."""
    try:
        return one_line(name)
    except UnreadableText:
        return "Support"
