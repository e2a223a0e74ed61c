"""Scores the answers customers would read, not only retrieval: `faqbot eval --answers`
runs the real chat turn (retrieval, mode, prompt, model, guard) over labelled questions.

Per answer: unsupported facts (stated, but in none of the texts it was given), key-fact
recall (the gold entry's facts it contains), whether it cites the gold entry, and
degenerate output (repeats, loops, scaffolding, empty, cut off).
"""

from __future__ import annotations

import re
import statistics
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from service.chat.facts import facts, unsupported
from service.chat.service import ChatService

_WORD = re.compile(r"\w+")
_SCAFFOLD = re.compile(r"</?\s*(faq|history|question|system)\b|\bRules:|<[a-z][^>]*>", re.I)
_SENT = re.compile(r"(?<=[.!?])\s+")
_CITE = re.compile(r"\s*\[\d+\]")


@dataclass(frozen=True)
class AnswerScore:
    query: str
    gold: str | None
    mode: str
    answer: str
    unsupported: list[str]
    key_facts: int
    key_found: int
    cites_gold: bool
    degenerate: list[str]
    ms: float

    @property
    def answered_in_scope(self) -> bool:
        return self.gold is not None and self.mode != "abstained"


def degenerate(answer: str, mode: str) -> list[str]:
    """What makes an answer unfit to show, whatever its facts."""
    text = _CITE.sub("", answer).strip()
    problems = []
    if not text:
        return ["empty"]
    if _SCAFFOLD.search(answer):
        problems.append("markup or scaffolding")
    if mode != "generated":
        return problems  # the FAQ's own text: repeats there are the editor's lists
    sentences = [s.strip().lower() for s in _SENT.split(text) if s.strip()]
    if len(sentences) != len(set(sentences)):
        problems.append("repeated sentence")
    words = _WORD.findall(text.lower())
    grams = Counter(zip(words, words[1:], words[2:], words[3:], strict=False))
    if grams and max(grams.values()) >= 3:
        problems.append("looping phrase")
    if not text.endswith((".", "!", "?", ")", '"')):
        problems.append("cut off")
    return problems


def score(
    query: str, gold: str | None, record: Mapping[str, Any], entries: Mapping[str, str], ms: float
) -> AnswerScore:
    answer, mode = str(record["answer"]), str(record["mode"])
    given = [entries.get(s["id"], "") for s in record["sources"]]
    # The decline is a fixed text (the shop's contact): nothing in it is the model's.
    invented = [] if mode == "abstained" else unsupported(answer, *given)
    gold_facts = facts(entries[gold]) if gold is not None and gold in entries else set()
    return AnswerScore(
        query=query,
        gold=gold,
        mode=mode,
        answer=answer,
        unsupported=[f"{f.kind}:{f.value}" for f in invented],
        key_facts=len(gold_facts),
        key_found=len(gold_facts & facts(answer)),
        cites_gold=gold is not None and any(s["id"] == gold for s in record["sources"]),
        degenerate=degenerate(answer, mode),
        ms=ms,
    )


async def run_answers(
    service: ChatService, queries: Sequence[tuple[str, str | None]], entries: Mapping[str, str]
) -> list[AnswerScore]:
    """Each question in a conversation of its own, as a first question."""
    scores = []
    for query, gold in queries:
        t0 = time.perf_counter()
        record = await service.answer(query, None)
        scores.append(score(query, gold, record, entries, (time.perf_counter() - t0) * 1000))
    return scores


@dataclass
class Summary:
    n: int
    unsupported_answers: int
    unsupported_facts: int
    degenerate_answers: int
    answered_in_scope: int
    key_fact_recall: float | None
    citation_accuracy: float | None
    mean_words: float
    p50_ms: float
    by_mode: dict[str, int] = field(default_factory=dict)


def summarize_scores(scores: Sequence[AnswerScore]) -> Summary:
    answered = [s for s in scores if s.answered_in_scope]
    with_facts = [s for s in answered if s.key_facts]
    return Summary(
        n=len(scores),
        unsupported_answers=sum(bool(s.unsupported) for s in scores),
        unsupported_facts=sum(len(s.unsupported) for s in scores),
        degenerate_answers=sum(bool(s.degenerate) for s in scores),
        answered_in_scope=len(answered),
        key_fact_recall=(
            sum(s.key_found for s in with_facts) / sum(s.key_facts for s in with_facts)
            if with_facts
            else None
        ),
        citation_accuracy=(
            sum(s.cites_gold for s in answered) / len(answered) if answered else None
        ),
        mean_words=statistics.fmean(len(_WORD.findall(s.answer)) for s in scores)
        if scores
        else 0.0,
        p50_ms=statistics.median(s.ms for s in scores) if scores else 0.0,
        by_mode=dict(Counter(s.mode for s in scores)),
    )


def per_mode(scores: Sequence[AnswerScore]) -> dict[str, Summary]:
    modes = sorted({s.mode for s in scores})
    return {m: summarize_scores([s for s in scores if s.mode == m]) for m in modes}


def worst(scores: Sequence[AnswerScore], k: int = 5) -> list[dict[str, Any]]:
    """Invented facts first, then degenerate output, then low key-fact recall."""

    def badness(s: AnswerScore) -> tuple[int, int, float]:
        recall = s.key_found / s.key_facts if s.key_facts and s.answered_in_scope else 1.0
        return (len(s.unsupported), len(s.degenerate), -recall)

    ranked = sorted(scores, key=badness, reverse=True)[:k]
    return [asdict(s) for s in ranked if badness(s) != (0, 0, -1.0)]
