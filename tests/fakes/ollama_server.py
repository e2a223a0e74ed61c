"""A fake Ollama server that follows Ollama's documented REST API, served over real HTTP.

Implements GET /api/tags, POST /api/show, POST /api/chat (NDJSON streaming when
"stream" is true, one JSON object otherwise), 404 {"error": ...} for unknown models, and
knobs for slow responses. Requests are recorded so tests can check what was sent.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.fakes.served import Served


@dataclass
class FakeOllamaBehaviour:
    models: list[str] = field(default_factory=lambda: ["qwen2.5:0.5b"])
    reply: str = "You have 30 days to return unworn items [1]."
    stall_before_first_s: float = 0.0
    delay_between_s: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime())


def _not_found(model: str) -> JSONResponse:
    return JSONResponse({"error": f"model '{model}' not found"}, status_code=404)


def build_app(behaviour: FakeOllamaBehaviour) -> Starlette:
    async def tags(request: Request) -> Response:
        return JSONResponse(
            {
                "models": [
                    {
                        "name": m,
                        "model": m,
                        "modified_at": _now(),
                        "size": 2019393189,
                        "digest": "a80c4f17acd5" * 5 + "abcd",
                        "details": {
                            "parent_model": "",
                            "format": "gguf",
                            "family": "qwen2",
                            "families": ["qwen2"],
                            "parameter_size": "494.03M",
                            "quantization_level": "Q4_K_M",
                        },
                    }
                    for m in behaviour.models
                ]
            }
        )

    async def show(request: Request) -> Response:
        body = await request.json()
        name = body.get("model") or body.get("name", "")
        behaviour.requests.append({"path": "/api/show", **body})
        if name not in behaviour.models:
            return _not_found(name)
        return JSONResponse(
            {
                "modelfile": f"FROM {name}",
                "parameters": 'stop "<|eot_id|>"',
                "template": "{{ .Prompt }}",
                "details": {
                    "format": "gguf",
                    "family": "qwen2",
                    "parameter_size": "494.03M",
                    "quantization_level": "Q4_K_M",
                },
                "model_info": {"general.architecture": "llama", "llama.context_length": 131072},
                "capabilities": ["completion"],
                "modified_at": _now(),
            }
        )

    async def chat(request: Request) -> Response:
        body = await request.json()
        behaviour.requests.append({"path": "/api/chat", **body})
        model = body.get("model", "")
        if model not in behaviour.models:
            return JSONResponse(
                {"error": f'model "{model}" not found, try pulling it first'}, status_code=404
            )
        words = behaviour.reply.split(" ")
        pieces = [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]

        def done() -> dict[str, Any]:
            return {
                "model": model,
                "created_at": _now(),
                "message": {"role": "assistant", "content": ""},
                "done": True,
                "done_reason": "stop",
                "total_duration": 1_000_000,
                "load_duration": 1000,
                "prompt_eval_count": 42,
                "prompt_eval_duration": 1000,
                "eval_count": len(pieces),
                "eval_duration": 1000,
            }

        if not body.get("stream", True):
            await asyncio.sleep(behaviour.stall_before_first_s)
            final = done()
            final["message"]["content"] = behaviour.reply
            return JSONResponse(final)

        async def lines() -> AsyncIterator[bytes]:
            await asyncio.sleep(behaviour.stall_before_first_s)
            for piece in pieces:
                chunk = {
                    "model": model,
                    "created_at": _now(),
                    "message": {"role": "assistant", "content": piece},
                    "done": False,
                }
                yield (json.dumps(chunk) + "\n").encode()
                await asyncio.sleep(behaviour.delay_between_s)
            yield (json.dumps(done()) + "\n").encode()

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    return Starlette(
        routes=[
            Route("/api/tags", tags, methods=["GET"]),
            Route("/api/show", show, methods=["POST"]),
            Route("/api/chat", chat, methods=["POST"]),
        ]
    )


class FakeOllama(Served):
    """Runs the fake on a free loopback port in a background thread."""

    def __init__(self, behaviour: FakeOllamaBehaviour | None = None) -> None:
        self.behaviour = behaviour or FakeOllamaBehaviour()
        super().__init__(build_app(self.behaviour), "fake Ollama")


def running(behaviour: FakeOllamaBehaviour | None = None) -> Iterator[FakeOllama]:
    with FakeOllama(behaviour) as server:
        yield server
