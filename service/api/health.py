"""GET /healthz (process alive) and /readyz (index, model, chat database, orders database).

/readyz is public (load balancers call it), so its body only says which part is down;
what went wrong, with paths and SQL, goes to the log."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from service.api.deps import MaybeOrdersDep, ModelDep, RetrieverDep, SettingsDep, StoreDep

router = APIRouter(tags=["health"])
log = logging.getLogger("faqbot.health")

Status = Literal["ok", "down", "disabled"]


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, Status]


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
    ready = all(v != "down" for v in checks.values())
    body = Readiness(ready=ready, checks=checks).model_dump()
    return JSONResponse(body, status_code=200 if ready else 503)
