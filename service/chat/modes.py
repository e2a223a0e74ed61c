"""Which kind of answer a retrieval result gets, before any model is asked."""

from __future__ import annotations

from typing import Literal

from service.config import ChatSettings, LLMSettings, Settings
from service.retrieval.retriever import SearchResult

PlannedMode = Literal["abstained", "canonical", "extractive", "generated"]


AnswerMode = Literal["generate", "canonical_first", "hybrid", "extractive"]


def resolve_answer_mode(chat: ChatSettings, llm: LLMSettings) -> AnswerMode:
    """ "auto" by the kind of model: the in-process 135M model answers worse than the
    FAQ's own text (docs/answers.md), so it words nothing by default: the entry verbatim
    when retrieval is certain, its relevant sentences otherwise; a 3B+ model served by
    Ollama or an OpenAI-compatible server words the answers retrieval is less sure of."""
    if chat.answer_mode != "auto":
        return chat.answer_mode
    return "canonical_first" if llm.provider == "llamacpp" else "hybrid"


def resolved_chat_settings(settings: Settings) -> ChatSettings:
    """The chat settings in force: answer_mode "auto" decided once, by the model."""
    mode = resolve_answer_mode(settings.chat, settings.llm)
    return settings.chat.model_copy(update={"answer_mode": mode})


def choose_mode_in(result: SearchResult, settings: ChatSettings, llm: LLMSettings) -> PlannedMode:
    """choose_mode, for any language: a question in another language is answered with
    the entry's own (translated) text, unless the model is configured for that language
    and would word it. Extractive answers need the English sentence model."""
    if result.lang == "en":
        return choose_mode(result, settings)
    if result.abstain or result.top is None:
        return "abstained"
    wording = settings.answer_mode in ("generate", "hybrid") and result.lang in llm.languages
    return "generated" if wording else "canonical"


def choose_mode(result: SearchResult, settings: ChatSettings) -> PlannedMode:
    """abstained: retrieval has no good answer (no model call); canonical: the top
    entry's own text; extractive: its sentences that answer the question; generated: the
    model words an answer from the passages (it may still end as "fallback" if the model
    fails or its answer is refused)."""
    if result.abstain or result.top is None:
        return "abstained"
    if settings.answer_mode == "extractive":
        return "extractive"
    # Verbatim only when certain (confident, and clearly ahead of the second entry): a
    # neighbouring entry's text, stated as the answer, misleads more than a worded one.
    certain = result.certain(settings.canonical_threshold, settings.canonical_margin)
    if settings.answer_mode in ("canonical_first", "hybrid") and certain:
        return "canonical"
    return "extractive" if settings.answer_mode == "canonical_first" else "generated"
