"""A request in the chat, inside a verified session only: the customer asks ("please cancel
it", "I want to return the boots", "change the delivery address to ..."), the order is
checked (requests.refusal), the customer confirms with yes (or drops it with no), and
only then is the request recorded for the shop (desk.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from service.config import RequestSettings
from service.orders.desk import RequestDesk
from service.orders.repository import AccessState, OrderRepository
from service.orders.requests import (
    Kind,
    OrderRequest,
    answer_to_confirm,
    refusal,
    request_for,
)
from service.texts import phrase

T = TypeVar("T")
Guarded = Callable[..., Awaitable[Any]]


def reply_values(request: OrderRequest) -> dict[str, str]:
    return {
        "n": request.order_number,
        "items": ", ".join(request.items),
        "address": request.address or "",
    }


class RequestTurn:
    def __init__(
        self,
        repo: OrderRepository,
        desk: RequestDesk,
        settings: RequestSettings,
        guarded: Guarded,
        returns_window: Callable[[], Awaitable[int]],
        contact: str,
        on_recorded: Callable[[], None] | None = None,
    ) -> None:
        self._repo = repo
        self._desk = desk
        self._settings = settings
        self._db = guarded  # the orders' guard: timeouts, breaker, their own threads
        self._window = returns_window
        self._contact = contact
        self._on_recorded = on_recorded

    async def propose(
        self, session_id: str, state: AccessState, kind: Kind, message: str, now: datetime
    ) -> tuple[str, dict[str, str], bool]:
        """(text key, values, ask to confirm) for a request about the verified order."""
        number = str(state.verified_order)
        facts = await self._db(self._repo.facts, number)
        if facts is None:
            return "request_needs_verification", {}, False
        request = request_for(kind, message, facts)
        window = await self._window()
        refused = refusal(request, facts, self._settings, window, now)
        if refused is not None:
            return refused.key, {**refused.values, "contact": self._contact}, False
        pending = replace(state, pending_request=request.as_dict())
        await self._db(self._repo.save_access, session_id, pending)
        return f"request_confirm_{kind}", reply_values(request), True

    async def answer(
        self, session_id: str, state: AccessState, message: str
    ) -> tuple[str, dict[str, str]] | None:
        """The customer's yes or no to the pending request; None when the message is
        neither (the request lapses, and the message is answered as any other)."""
        said = answer_to_confirm(message)
        pending = OrderRequest.from_dict(state.pending_request or {})
        await self._db(self._repo.save_access, session_id, replace(state, pending_request=None))
        if said is None:
            return None
        if not said:
            return "request_dropped", reply_values(pending)
        recorded = await self._db(self._desk.record, session_id, pending)
        if self._on_recorded is not None:
            self._on_recorded()
        return f"request_recorded_{pending.kind}", {
            **reply_values(pending),
            "reference": recorded.reference,
        }


def english(key: str, values: dict[str, str]) -> str:
    return phrase(key, "en", **values) or key
