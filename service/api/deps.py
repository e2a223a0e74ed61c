"""Dependencies: the parts built by the app's lifespan, taken from app.state. Routes get
their parts only through these."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from service.chat.conversations import Conversations
from service.chat.history import HistoryWriter
from service.chat.limits import GenerationLimiter
from service.chat.service import ChatService
from service.chat.store import ChatStore
from service.chat.turn_language import TurnLanguage
from service.config import ChatSettings, Settings
from service.live_handoff import LiveHandoffs
from service.llm.base import ChatModel
from service.metrics import ServiceMetrics
from service.orders.assistant import OrderAssistant
from service.retrieval.retriever import Retriever
from service.throttle.limits import ClientLimits


def _part(name: str) -> Callable[[Request], Any]:
    """The part the lifespan put on app.state under this name."""

    def get(request: Request) -> Any:
        return getattr(request.app.state, name)

    get.__name__ = f"get_{name}"  # how FastAPI and tracebacks name the dependency
    return get


def get_orders(request: Request) -> OrderAssistant:
    assistant: OrderAssistant | None = request.app.state.orders
    if assistant is None:
        raise HTTPException(503, detail="order lookup is not enabled")
    return assistant


def get_client(request: Request) -> str:
    """The client's address as ClientAddress middleware decided it."""
    return request.client.host if request.client else "unknown"


ChatDep = Annotated[ChatService, Depends(_part("chat"))]
StoreDep = Annotated[ChatStore, Depends(_part("store"))]
SettingsDep = Annotated[Settings, Depends(_part("settings"))]
OrdersDep = Annotated[OrderAssistant, Depends(get_orders)]
MaybeOrdersDep = Annotated[OrderAssistant | None, Depends(_part("orders"))]
ModelDep = Annotated[ChatModel, Depends(_part("model"))]
RetrieverDep = Annotated[Callable[[], Retriever], Depends(_part("retriever"))]
ClientDep = Annotated[str, Depends(get_client)]
LimitsDep = Annotated[ClientLimits, Depends(_part("limits"))]
# the generation slots' queue (429 when full), the chat history and its writer
LimiterDep = Annotated[GenerationLimiter, Depends(_part("limiter"))]
ConversationsDep = Annotated[Conversations, Depends(_part("conversations"))]
HistoryDep = Annotated[HistoryWriter, Depends(_part("history"))]
MetricsDep = Annotated[ServiceMetrics, Depends(_part("metrics"))]
LanguageDep = Annotated[TurnLanguage, Depends(_part("language"))]
LiveDep = Annotated[LiveHandoffs, Depends(_part("live"))]
# The chat settings in force (answer_mode "auto" resolved).
ChatSettingsDep = Annotated[ChatSettings, Depends(_part("chat_settings"))]
