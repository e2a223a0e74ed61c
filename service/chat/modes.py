"""Which kind of answer a retrieval result gets, before any model is asked."""

from __future__ import annotations

from typing import Literal

from service.config import ChatSettings
from service.retrieval.retriever import SearchResult

PlannedMode = Literal["abstained", "canonical", "extractive", "generated"]


def choose_mode(result: SearchResult, settings: ChatSettings) -> PlannedMode:
    """abstained: retrieval has no good answer (no model call); canonical: the top
    entry's own text; extractive: its sentences that answer the question; generated: the
    model words an answer from the passages (it may still end as "fallback" if the model
    fails or its answer is refused)."""
    if result.abstain or result.top is None:
        return "abstained"
    if settings.answer_mode == "canonical_first":
        return "canonical"
    if settings.answer_mode == "extractive":
        return "extractive"
    if settings.answer_mode == "hybrid" and result.confidence >= settings.canonical_threshold:
        return "canonical"
    return "generated"
