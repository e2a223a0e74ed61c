"""GET /healthz (process alive) and /readyz (index, model, database)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    checks: dict[str, Any] = {}
    try:
        retriever = await asyncio.to_thread(state.retriever)
        checks["index"] = {"ok": True, "version": retriever.version, "entries": len(retriever)}
    except Exception as exc:  # every failure is reported, none is fatal to the probe
        checks["index"] = {"ok": False, "error": str(exc)}
    try:
        await asyncio.wait_for(
            state.model.check(), timeout=state.settings.llm.connect_timeout_s + 2
        )
        checks["model"] = {"ok": True, "name": state.model.name}
    except Exception as exc:
        checks["model"] = {"ok": False, "name": state.model.name, "error": str(exc) or "timeout"}
    try:
        await asyncio.wait_for(state.store.ping(), timeout=5)
        checks["database"] = {"ok": True}
    except Exception as exc:
        checks["database"] = {"ok": False, "error": str(exc) or "timeout"}
    ready = all(c["ok"] for c in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
