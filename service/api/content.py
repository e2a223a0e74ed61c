"""What the chat page and widget read: the shop's settings, an FAQ entry (for a cited
source), and a conversation's messages after a reload."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel

from service.api.deps import ConversationsDep, RetrieverDep, SettingsDep
from service.api.errors import UNAVAILABLE, ErrorBody, Responses
from service.chat.turn import Action, SourceRef, Suggestion
from service.web.theme import text_colour_on

router = APIRouter(prefix="/v1", tags=["content"])
SESSION_ID = Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")
ENTRY_ID = Path(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")
NOT_FOUND: Responses = {404: {"model": ErrorBody, "description": "No such thing"}}


class PublicConfig(BaseModel):
    shop_name: str
    greeting: str
    suggested_questions: list[str]
    brand_colour: str
    on_brand_colour: str
    contact: str
    order_lookup: bool
    allow_postal_code: bool
    max_message_chars: int


class Entry(BaseModel):
    id: str
    title: str
    answer: str
    url: str
    category: str
    updated: str


class Message(BaseModel):
    id: str
    role: str
    content: str
    mode: str | None
    # What the page showed with an answer, and the customer's vote, so a reload looks
    # as the conversation did.
    sources: list[SourceRef] = []
    suggestions: list[Suggestion] = []
    action: Action | None = None
    rating: str | None = None


class Conversation(BaseModel):
    session_id: str
    messages: list[Message]


@router.get("/config", response_model=PublicConfig)
async def config(settings: SettingsDep) -> PublicConfig:
    web = settings.web
    return PublicConfig(
        shop_name=settings.shop.name,
        greeting=web.greeting,
        suggested_questions=web.suggested_questions,
        brand_colour=web.brand_colour,
        on_brand_colour=text_colour_on(web.brand_colour),
        contact=settings.shop.contact,
        order_lookup=settings.orders.enabled,
        allow_postal_code=settings.orders.allow_postal_code,
        max_message_chars=settings.chat.max_message_chars,
    )


@router.get("/entries/{entry_id}", response_model=Entry, responses={**NOT_FOUND, **UNAVAILABLE})
async def entry(retriever: RetrieverDep, entry_id: str = ENTRY_ID) -> Entry:
    live = await asyncio.to_thread(retriever)
    info = live.manifest.entries.get(entry_id)
    if info is None:
        raise HTTPException(404, detail="no FAQ entry with that id")
    return Entry(
        id=entry_id,
        title=info.title,
        answer=info.answer,
        url=info.url,
        category=info.category,
        updated=info.updated,
    )


@router.get(
    "/sessions/{session_id}/messages",
    response_model=Conversation,
    responses={**NOT_FOUND, **UNAVAILABLE},
)
async def messages(conversations: ConversationsDep, session_id: str = SESSION_ID) -> Conversation:
    """Only the holder of a session's id can read it: ids are 128 random bits, minted by
    the server, and an unknown id is a 404 like a missing one."""
    stored = await conversations.messages(session_id)
    if stored is None:
        raise HTTPException(404, detail="no such conversation")
    return Conversation(
        session_id=session_id,
        messages=[
            Message(
                id=m.id,
                role=m.role,
                content=m.content,
                mode=m.mode,
                sources=list(m.shown.sources),
                suggestions=list(m.shown.suggestions),
                action=m.shown.action,
                rating=m.rating,
            )
            for m in stored
        ],
    )
