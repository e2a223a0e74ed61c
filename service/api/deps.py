"""Dependencies: the parts built by the app's lifespan, taken from app.state. Routes get
their parts only through these."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from service.chat.conversations import Conversations
from service.chat.history import HistoryWriter
from service.chat.limits import GenerationLimiter
from service.chat.service import ChatService
from service.chat.store import ChatStore
from service.config import Settings
from service.llm.base import ChatModel
from service.metrics import ServiceMetrics
from service.orders.assistant import OrderAssistant
from service.retrieval.retriever import Retriever
from service.throttle.limits import ClientLimits


def get_chat(request: Request) -> ChatService:
    return request.app.state.chat  # type: ignore[no-any-return]


def get_store(request: Request) -> ChatStore:
    return request.app.state.store  # type: ignore[no-any-return]


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_orders_if_enabled(request: Request) -> OrderAssistant | None:
    return request.app.state.orders  # type: ignore[no-any-return]


def get_orders(request: Request) -> OrderAssistant:
    assistant = get_orders_if_enabled(request)
    if assistant is None:
        raise HTTPException(503, detail="order lookup is not enabled")
    return assistant


def get_model(request: Request) -> ChatModel:
    return request.app.state.model  # type: ignore[no-any-return]


def get_retriever(request: Request) -> Callable[[], Retriever]:
    return request.app.state.retriever  # type: ignore[no-any-return]


def get_limits(request: Request) -> ClientLimits:
    return request.app.state.limits  # type: ignore[no-any-return]


def get_limiter(request: Request) -> GenerationLimiter:
    return request.app.state.limiter  # type: ignore[no-any-return]


def get_conversations(request: Request) -> Conversations:
    return request.app.state.conversations  # type: ignore[no-any-return]


def get_history(request: Request) -> HistoryWriter:
    return request.app.state.history  # type: ignore[no-any-return]


def get_metrics(request: Request) -> ServiceMetrics:
    return request.app.state.metrics  # type: ignore[no-any-return]


def get_client(request: Request) -> str:
    """The client's address as ClientAddress middleware decided it."""
    return request.client.host if request.client else "unknown"


ChatDep = Annotated[ChatService, Depends(get_chat)]
StoreDep = Annotated[ChatStore, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
OrdersDep = Annotated[OrderAssistant, Depends(get_orders)]
MaybeOrdersDep = Annotated[OrderAssistant | None, Depends(get_orders_if_enabled)]
ModelDep = Annotated[ChatModel, Depends(get_model)]
RetrieverDep = Annotated[Callable[[], Retriever], Depends(get_retriever)]
ClientDep = Annotated[str, Depends(get_client)]
LimitsDep = Annotated[ClientLimits, Depends(get_limits)]
# the generation slots' queue (429 when full), the chat history and its writer
LimiterDep = Annotated[GenerationLimiter, Depends(get_limiter)]
ConversationsDep = Annotated[Conversations, Depends(get_conversations)]
HistoryDep = Annotated[HistoryWriter, Depends(get_history)]
MetricsDep = Annotated[ServiceMetrics, Depends(get_metrics)]
