"""The threshold simulator: how the answers to real questions would change under other
abstain and verbatim thresholds, and what the gate questions would score.

The English path only: questions in other languages keep the cross-lingual path's own,
calibrated decision. Modes are decided by the same function the chat uses (choose_mode);
the gate figures by the same functions `faqbot eval` uses (run_queries, summarize), so
the two agree on the same questions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from service.chat.modes import choose_mode
from service.config import ChatSettings
from service.retrieval.evaluation import LabelledQuery, run_queries, summarize
from service.retrieval.language import LanguageDetector, choose_language
from service.retrieval.retriever import Retriever, SearchResult

EXAMPLES = 5


@dataclass(frozen=True)
class Thresholds:
    abstain_threshold: float
    canonical_threshold: float
    canonical_margin: float


def in_force(retriever: Retriever) -> Thresholds:
    t = retriever.thresholds
    return Thresholds(t.abstain, t.canonical, t.canonical_margin)


def _mode(result: SearchResult, t: Thresholds, chat: ChatSettings) -> str:
    moved = replace(
        result,
        abstain=result.confidence < t.abstain_threshold,
        canonical_threshold=t.canonical_threshold,
        canonical_margin=t.canonical_margin,
    )
    return choose_mode(moved, chat)


def simulate(
    retriever: Retriever,
    chat: ChatSettings,
    questions: Sequence[str],
    gate: Sequence[LabelledQuery],
    proposed: Thresholds,
    detector: LanguageDetector | None,
) -> dict[str, Any]:
    # the rule the chat applies, with the thresholds under test (not chat's own overrides)
    chat = chat.model_copy(update={"canonical_threshold": None, "canonical_margin": None})
    current = in_force(retriever)
    english = [
        q
        for q in dict.fromkeys(questions)
        if detector is None
        or choose_language(detector.detect(q), None, None, retriever.languages) == "en"
    ]
    moves: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    vectors = retriever.embed_queries(english) if english else None
    for i, q in enumerate(english):
        assert vectors is not None
        result = retriever.search_embedded(q, vectors[i])
        before, after = _mode(result, current, chat), _mode(result, proposed, chat)
        if before != after:
            key = f"{before} -> {after}"
            moves[key] += 1
            examples.setdefault(key, [])
            if len(examples[key]) < EXAMPLES:
                examples[key].append(q)
    report: dict[str, Any] = {
        "current": asdict(current),
        "proposed": asdict(proposed),
        "questions": len(english),
        "changes": dict(moves.most_common()),
        "examples": examples,
    }
    if gate:
        outcomes = run_queries(retriever, gate, detector)
        report["gate"] = {
            "current": asdict(summarize(outcomes, current.abstain_threshold)),
            "proposed": asdict(summarize(outcomes, proposed.abstain_threshold)),
        }
    return report
