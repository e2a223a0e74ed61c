"""Labelled queries and the metrics computed from ranked results.

A query file is JSONL: ``{"query": str, "faq_id": str | null, "lang": str}``; null marks
an out-of-scope query, where the right behaviour is to decline. ``lang`` (optional) only
groups the figures: each query's language is detected as the service detects it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from service.retrieval.language import LanguageDetector, choose_language
from service.retrieval.retriever import Retriever

RANK_DEPTH = 20  # MRR counts a hit up to this rank; deeper is as good as a miss.


class QueryFileError(ValueError):
    pass


@dataclass(frozen=True)
class LabelledQuery:
    query: str
    faq_id: str | None
    lang: str | None = None


@dataclass(frozen=True)
class Outcome:
    faq_id: str | None
    ranked: tuple[str, ...]
    confidence: float
    query: str = ""
    scores: tuple[float, ...] = ()  # the ranked entries' scores
    certain: bool = False  # answered verbatim under the index's rule (confidence and lead)
    lang: str | None = None  # the file's label
    # The cross-lingual path's own decision (its threshold and decline neighbours); None on
    # the English path, where the threshold decides.
    declined: bool | None = None

    def answered(self, threshold: float) -> bool:
        return not self.declined if self.declined is not None else self.confidence >= threshold

    def handled_right(self, threshold: float) -> bool:
        """The one rule every figure uses: an in-scope query has the right entry on top
        and is answered (confidence at or above the threshold); an out-of-scope query is
        declined."""
        if self.faq_id is None:
            return not self.answered(threshold)
        return bool(self.ranked) and self.ranked[0] == self.faq_id and self.answered(threshold)


@dataclass(frozen=True)
class Metrics:
    recall_at_1: float | None
    recall_at_5: float | None
    mrr: float | None
    in_scope_accuracy: float | None
    oos_recall: float | None
    abstention_accuracy: float
    n_queries: int
    n_in_scope: int
    n_out_of_scope: int
    threshold: float
    # Of the questions answered verbatim, the share with the right entry; and the share
    # of in-scope questions answered verbatim.
    canonical_precision: float | None = None
    canonical_share: float | None = None


def load_queries(path: Path, known_ids: set[str] | None = None) -> list[LabelledQuery]:
    """Read and validate a query file; every error names the file and line."""
    queries: list[LabelledQuery] = []
    errors: list[str] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise QueryFileError(f"{path}: cannot read query file: {exc}") from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{path}:{n}: invalid JSON: {exc.msg}")
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("query"), str):
            errors.append(f'{path}:{n}: expected {{"query": str, "faq_id": str or null}}')
            continue
        faq_id = obj.get("faq_id")
        if faq_id is not None and not isinstance(faq_id, str):
            errors.append(f"{path}:{n}: faq_id must be a string or null")
            continue
        if faq_id is not None and known_ids is not None and faq_id not in known_ids:
            errors.append(f'{path}:{n}: faq_id "{faq_id}" is not an entry of the index')
            continue
        if not obj["query"].strip():
            errors.append(f"{path}:{n}: empty query")
            continue
        lang = obj.get("lang")
        if lang is not None and not isinstance(lang, str):
            errors.append(f"{path}:{n}: lang must be a string")
            continue
        queries.append(LabelledQuery(obj["query"], faq_id, lang))
    if errors:
        raise QueryFileError("\n".join(errors))
    if not queries:
        raise QueryFileError(f"{path}: no queries")
    return queries


def run_queries(
    retriever: Retriever,
    queries: Sequence[LabelledQuery],
    detector: LanguageDetector | None = None,
) -> list[Outcome]:
    """With a detector, each query goes where the service would send it: English to the
    English path (embedded in one batch), other languages to the cross-lingual one."""
    langs = [
        choose_language(detector.detect(q.query), None, None, retriever.languages)
        if detector is not None
        else "en"
        for q in queries
    ]
    english = [i for i, lang in enumerate(langs) if lang == "en"]
    vectors = retriever.embed_queries([queries[i].query for i in english])
    results = {
        i: retriever.search_embedded(queries[i].query, v, RANK_DEPTH)
        for i, v in zip(english, vectors, strict=True)
    }
    for i, lang in enumerate(langs):
        if lang != "en":
            results[i] = retriever.search(queries[i].query, RANK_DEPTH, lang=lang)
    outcomes = []
    for i, q in enumerate(queries):
        result = results[i]
        outcomes.append(
            Outcome(
                q.faq_id,
                tuple(h.entry_id for h in result.hits),
                result.confidence,
                q.query,
                tuple(round(h.score, 4) for h in result.hits),
                result.certain(),
                q.lang,
                result.abstain if result.lang != "en" else None,
            )
        )
    return outcomes


def by_language(outcomes: Sequence[Outcome], threshold: float) -> dict[str, Metrics]:
    """The figures of each labelled language (only when the file labels them)."""
    langs = sorted({o.lang for o in outcomes if o.lang})
    return {lang: summarize([o for o in outcomes if o.lang == lang], threshold) for lang in langs}


def summarize(outcomes: Sequence[Outcome], threshold: float) -> Metrics:
    in_scope = [o for o in outcomes if o.faq_id is not None]
    oos = [o for o in outcomes if o.faq_id is None]

    def rank(o: Outcome) -> int | None:
        return o.ranked.index(o.faq_id) + 1 if o.faq_id in o.ranked else None

    ranks = [rank(o) for o in in_scope]
    hit1 = [r == 1 for r in ranks]
    answered_right = [o.handled_right(threshold) for o in in_scope]
    declined = [o.handled_right(threshold) for o in oos]
    n = len(outcomes)

    def mean(xs: Sequence[bool | float]) -> float | None:
        return float(np.mean(xs)) if xs else None

    verbatim = [o for o in outcomes if o.certain]

    return Metrics(
        recall_at_1=mean(hit1),
        recall_at_5=mean([r is not None and r <= 5 for r in ranks]),
        mrr=mean([1.0 / r if r else 0.0 for r in ranks]),
        in_scope_accuracy=mean(answered_right) if oos else None,
        oos_recall=mean(declined),
        abstention_accuracy=(sum(answered_right) + sum(declined)) / n if n else 0.0,
        n_queries=n,
        n_in_scope=len(in_scope),
        n_out_of_scope=len(oos),
        threshold=threshold,
        canonical_precision=mean(
            [o.faq_id is not None and o.ranked[0] == o.faq_id for o in verbatim]
        ),
        canonical_share=mean([o.certain for o in in_scope]),
    )


def sweep(outcomes: Sequence[Outcome], thresholds: Sequence[float]) -> list[dict[str, float]]:
    """Per threshold: in-scope accuracy (also for sets without out-of-scope queries, where
    it shows what abstention costs), out-of-scope recall (NaN without such queries)."""
    in_scope = [o for o in outcomes if o.faq_id is not None]
    oos = [o for o in outcomes if o.faq_id is None]
    rows = []
    for t in thresholds:
        answered_right = sum(o.handled_right(t) for o in in_scope)
        declined = sum(o.handled_right(t) for o in oos)
        rows.append(
            {
                "threshold": round(float(t), 4),
                "in_scope_accuracy": answered_right / len(in_scope) if in_scope else float("nan"),
                "oos_recall": declined / len(oos) if oos else float("nan"),
                "abstention_accuracy": (answered_right + declined) / len(outcomes),
            }
        )
    return rows


@dataclass(frozen=True)
class SuggestionStats:
    """'Did you mean' at one floor: of the in-scope questions retrieval declined, how many
    would be offered the right entry among the top three; of the out-of-scope questions
    it declined, how many would be offered anything at all."""

    floor: float
    declined_in_scope: int
    right_offered: int
    declined_out_of_scope: int
    oos_offered: int


def suggestion_stats(
    outcomes: Sequence[Outcome], threshold: float, floor: float
) -> SuggestionStats:
    declined = [o for o in outcomes if not o.answered(threshold)]
    in_scope = [o for o in declined if o.faq_id is not None]
    oos = [o for o in declined if o.faq_id is None]
    return SuggestionStats(
        floor=floor,
        declined_in_scope=len(in_scope),
        right_offered=sum(o.confidence >= floor and o.faq_id in o.ranked[:3] for o in in_scope),
        declined_out_of_scope=len(oos),
        oos_offered=sum(o.confidence >= floor for o in oos),
    )


def misses(outcomes: Sequence[Outcome], threshold: float) -> list[dict[str, object]]:
    """Every query handled wrongly, most confident first (those hurt customers most):
    answered with the wrong entry, declined though in scope, or answered though out of
    scope; with the expected and returned entries and the scores."""
    rows = []
    for o in outcomes:
        if o.handled_right(threshold):
            continue
        answered = o.answered(threshold)
        if o.faq_id is None:
            kind = "answered out of scope"
        elif answered:
            kind = "wrong entry"
        else:
            kind = "declined in scope"
        rows.append(
            {
                "kind": kind,
                "query": o.query,
                "expected": o.faq_id,
                "returned": o.ranked[0] if answered and o.ranked else None,
                "confidence": round(o.confidence, 4),
                "verbatim": o.certain,
                **({"lang": o.lang} if o.lang else {}),
                "candidates": [
                    {"id": i, "score": s} for i, s in zip(o.ranked[:3], o.scores[:3], strict=False)
                ],
            }
        )
    return sorted(rows, key=lambda r: -float(r["confidence"]))  # type: ignore[arg-type]
