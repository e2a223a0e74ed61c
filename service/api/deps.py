"""Dependencies: the parts built by the app's lifespan, taken from app.state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.chat.service import ChatService
from service.config import Settings
from service.db.chat_store import ChatStore


def get_chat(request: Request) -> ChatService:
    return request.app.state.chat  # type: ignore[no-any-return]


def get_store(request: Request) -> ChatStore:
    return request.app.state.store  # type: ignore[no-any-return]


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


ChatDep = Annotated[ChatService, Depends(get_chat)]
StoreDep = Annotated[ChatStore, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
