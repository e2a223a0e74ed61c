"""How many days customers have to return an order: as the live FAQ states them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from service.retrieval.retriever import Retriever


async def returns_window(retriever: Callable[[], Retriever], default_days: int) -> int:
    """Days, as the live FAQ states them (read at ingest); the setting only for an
    index built before that, or while no index loads (the order answer must not fail
    for want of the index)."""
    try:
        live = await asyncio.to_thread(retriever)
    except Exception:
        return default_days
    days = live.manifest.policy.get("returns_window_days", default_days)
    return int(days)
