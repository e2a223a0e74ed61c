"""The agents' inbox in the console (role agent, and ops): the customers who asked for a
person, each with the conversation so far, why the bot answered as it did, and the order
verified in it; an agent claims one, replies (to the customer's page, and by mail to a
customer who has left), hands it back to the bot or closes it."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from service.admin import conversations
from service.admin.deps import ConsoleDep
from service.admin.routes import Agent
from service.api.deps import LiveDep, SettingsDep
from service.api.text import ReadableText
from service.live_handoff import HandoffStateError
from service.reply_mail import mail_reply

agents = APIRouter(prefix="/admin/api/handoffs", include_in_schema=False)
HANDOFF_ID = re.compile(r"^[0-9a-f]{32}$")


class ReplyBody(BaseModel):
    text: ReadableText = Field(min_length=1, max_length=4000)


def _id(handoff_id: str) -> str:
    if not HANDOFF_ID.match(handoff_id):
        raise HTTPException(404, "no such handoff")
    return handoff_id


async def _act(fn: Any, *args: Any) -> Any:
    try:
        return await asyncio.to_thread(fn, *args)
    except HandoffStateError as exc:
        raise HTTPException(409, str(exc)) from None


@agents.get("")
async def waiting(caller: Agent, live: LiveDep) -> dict[str, Any]:
    """Open and claimed handoffs, oldest first."""
    return {"handoffs": await asyncio.to_thread(live.waiting), "me": caller.user.name}


@agents.get("/{handoff_id}")
async def one(handoff_id: str, caller: Agent, live: LiveDep, console: ConsoleDep) -> dict[str, Any]:
    """The handoff, its messages, and each bot turn before it with its trace."""
    found = await asyncio.to_thread(live.detail, _id(handoff_id))
    if found is None:
        raise HTTPException(404, "no such handoff")
    session = found.get("session_id")
    turns = await asyncio.to_thread(conversations.turns, console.engine, session) if session else []
    return {**found, "turns": turns}


@agents.post("/{handoff_id}/claim")
async def claim(
    handoff_id: str, caller: Agent, live: LiveDep, console: ConsoleDep
) -> dict[str, str]:
    await _act(live.claim, _id(handoff_id), caller.user.name)
    await asyncio.to_thread(console.accounts.audit, caller.user.name, "claim", {"id": handoff_id})
    return {"status": "claimed", "agent": caller.user.name}


@agents.post("/{handoff_id}/reply")
async def reply(
    handoff_id: str, body: ReplyBody, caller: Agent, live: LiveDep, settings: SettingsDep
) -> dict[str, Any]:
    message, left = await _act(live.reply, _id(handoff_id), caller.user.name, body.text)
    mailed = left and await mail_reply(live, settings, handoff_id, message.id, body.text)
    return {**message.as_dict(), "customer_left": left, "mailed": mailed}


@agents.post("/{handoff_id}/handback")
async def handback(handoff_id: str, caller: Agent, live: LiveDep) -> dict[str, str]:
    await _act(live.release, _id(handoff_id), caller.user.name, "handed_back")
    return {"status": "handed_back"}


@agents.post("/{handoff_id}/close")
async def close(handoff_id: str, caller: Agent, live: LiveDep) -> dict[str, str]:
    await _act(live.release, _id(handoff_id), caller.user.name, "closed")
    return {"status": "closed"}
