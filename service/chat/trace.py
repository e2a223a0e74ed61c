"""Why this answer: what one turn's retrieval found and decided, and what the model was
sent, kept with the answer for the console (masked like the history: the prompt holds
the customer's words)."""

from __future__ import annotations

import base64
from dataclasses import asdict
from typing import Any

import numpy as np
import numpy.typing as npt

from service.chat.prompt import BuiltPrompt
from service.chat.turn import Timings
from service.privacy import mask_pii
from service.retrieval.retriever import SearchResult

MAX_CANDIDATES = 5


def pack_vector(vector: Any, model_id: str) -> dict[str, str]:
    """The question's embedding, float16 in base64 (768 bytes for 384 dimensions)."""
    data = np.asarray(vector, dtype=np.float16).tobytes()
    return {"model": model_id, "f16": base64.b64encode(data).decode("ascii")}


def unpack_vector(packed: Any, model_id: str) -> npt.NDArray[np.float32] | None:
    """The vector if it came from this model, else None (the index changed models)."""
    if not isinstance(packed, dict) or packed.get("model") != model_id:
        return None
    try:
        raw = base64.b64decode(str(packed["f16"]), validate=True)
        return np.frombuffer(raw, dtype=np.float16).astype(np.float32)
    except (KeyError, ValueError):
        return None


def build_trace(
    result: SearchResult | None,
    prompt: BuiltPrompt | None,
    lang: str,
    timings: Timings | None = None,
) -> dict[str, Any] | None:
    """The turn's timings always (latency charts); the rest when it retrieved (not an
    order turn or a cached answer)."""
    timed = {"timings": asdict(timings)} if timings is not None else {}
    if result is None:
        return timed or None
    trace: dict[str, Any] = {
        **timed,
        "lang": lang,
        "path": "cross-lingual" if result.lang != "en" else "english",
        "version": result.version,
        "confidence": round(result.confidence, 4),
        "threshold": round(result.threshold, 4),
        "abstain": result.abstain,
        "margin": round(result.margin, 4),
        "verbatim_rule": {
            "confidence": round(result.canonical_threshold, 4),
            "lead": round(result.canonical_margin, 4),
        },
        "candidates": [
            {
                "id": h.entry_id,
                "title": h.title,
                "score": round(h.score, 4),
                "question_similarity": round(h.question_similarity, 4),
                "chunk_similarity": round(h.chunk_similarity, 4),
                "classifier": round(h.classifier, 4),
                "lexical": round(h.lexical, 4),
            }
            for h in result.hits[:MAX_CANDIDATES]
        ],
        "retrieval_ms": {k: round(v, 2) for k, v in result.timings_ms.items()},
    }
    if result.query_vector is not None:
        trace["vector"] = pack_vector(result.query_vector, result.model_id)
    if prompt is not None:
        trace["prompt"] = {
            "messages": [{"role": m.role, "content": mask_pii(m.content)} for m in prompt.messages],
            "prefix_tokens": prompt.prefix_tokens,
            "variable_tokens": prompt.variable_tokens,
        }
    return trace
