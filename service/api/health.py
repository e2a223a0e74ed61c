"""GET /healthz (process alive) and /readyz (index, model, chat database, orders database).

/readyz is public (load balancers call it), so its body only says which part is down;
what went wrong, with paths and SQL, goes to the log."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from service.api.deps import MaybeOrdersDep, ModelDep, RetrieverDep, SettingsDep, StoreDep
from service.retrieval.live import LiveRetriever

router = APIRouter(tags=["health"])
log = logging.getLogger("faqbot.health")

Status = Literal["ok", "degraded", "down", "disabled"]
# What an operator can do about a part that is down (the log has the details).
DOWN_REASONS = {
    "index": "the index does not load: see the log; `faqbot ingest` publishes one",
    "model": "the model does not answer: check that its server runs (FAQBOT_LLM__*); "
    "answers fall back to the FAQ's own text meanwhile",
    "database": "the chat database does not answer: check FAQBOT_DB__URL and its server",
    "orders": "the orders database does not answer: check FAQBOT_ORDERS__DB_URL and its server",
}


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, Status]
    reasons: dict[str, str] = Field(
        default_factory=dict,
        description="For a part that is down or degraded: what an operator can do.",
    )


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _check(name: str, probe: Callable[[], Awaitable[object]], timeout_s: float) -> Status:
    try:
        await asyncio.wait_for(probe(), timeout=timeout_s)
        return "ok"
    except Exception as exc:  # every failure is reported, none is fatal to the probe
        log.warning("readiness: %s is down: %s", name, exc or type(exc).__name__)
        return "down"


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "A part is down; the body names it"}},
)
async def readyz(
    settings: SettingsDep,
    retriever: RetrieverDep,
    model: ModelDep,
    store: StoreDep,
    orders: MaybeOrdersDep,
    request: Request,
) -> JSONResponse:
    probes: dict[str, tuple[Callable[[], Awaitable[object]], float]] = {
        "index": (lambda: asyncio.to_thread(retriever), 10.0),
        "model": (model.check, settings.llm.connect_timeout_s + 2),
        "database": (store.ping, settings.db.timeout_s + 1),
    }
    if orders is not None:
        probes["orders"] = (orders.ping, settings.orders.db_timeout_s + 1)
    names = list(probes)
    results = await asyncio.gather(*(_check(n, *probes[n]) for n in names))
    checks: dict[str, Status] = dict(zip(names, results, strict=True))
    if orders is None:
        checks["orders"] = "disabled"
    reasons = {name: DOWN_REASONS[name] for name, status in checks.items() if status == "down"}
    reasons.update(_index_reasons(request, checks))
    ready = all(v != "down" for v in checks.values())
    body = Readiness(ready=ready, checks=checks, reasons=reasons).model_dump()
    return JSONResponse(body, status_code=200 if ready else 503)


def _index_reasons(request: Request, checks: dict[str, Status]) -> dict[str, str]:
    """An index that loads an older version than the published one is degraded (still
    ready: customers get answers); one that serves nothing is down. Either says why."""
    live: LiveRetriever | None = getattr(request.app.state, "index_live", None)
    reason = live.health.reason() if live is not None else None
    if reason is None:
        return {}
    if checks.get("index") == "ok" and live is not None and live.health.degraded:
        checks["index"] = "degraded"
    return {"index": reason}
