"""Where the FAQ itself will confuse customers, said at ingest with what to do (the
run still publishes): entries without other phrasings, answers too long for a chat
bubble, and two entries that ask nearly the same question.

"Nearly the same" is measured on the FAQ itself: two entries' questions closer than the
FAQ's own paraphrases typically are to their entry (the median), so the rule follows the
shop's writing instead of a constant tuned on one FAQ.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from service.retrieval.embedder import Vectors
from service.retrieval.schema import FaqEntry

# About what a chat bubble shows without scrolling on a phone (6-8 lines); longer
# answers are cut or scrolled, and the extractive mode has more to choose from.
BUBBLE_CHARS = 700
MAX_PAIRS = 10  # a FAQ with many near-duplicates gets the closest ones, not a wall of text
MAX_MEDIAN_ENTRIES = 2000  # a median over this many entries is as good as over all


def entry_advice(entries: Sequence[FaqEntry]) -> list[str]:
    """What needs no vectors: missing phrasings and long answers."""
    advice = []
    for e in entries:
        if not e.questions:
            advice.append(
                f'{e.source}: entry "{e.id}" has no other phrasings: customers who word it '
                'differently may not find it; add two or three under "Also asked:"'
            )
        if len(e.answer) > BUBBLE_CHARS:
            advice.append(
                f'{e.source}: entry "{e.id}" answers in {len(e.answer)} characters, more '
                f"than a chat bubble shows (about {BUBBLE_CHARS}): put the essentials "
                "first, or split it into entries"
            )
    return advice


def paraphrase_closeness(
    vectors: Vectors, labels: Sequence[str], kinds: Sequence[str]
) -> float | None:
    """The median, over the FAQ's questions and phrasings, of each one's best cosine to
    another of its own entry: how close a paraphrase of an entry typically is to it.
    None for an FAQ without paraphrases."""
    keep = [i for i, k in enumerate(kinds) if k in ("question", "phrasing")]
    ids = np.asarray([labels[i] for i in keep])
    unit = _unit(vectors[keep])
    best: list[float] = []
    entries = list(dict.fromkeys(ids.tolist()))
    for entry in entries[:: max(1, len(entries) // MAX_MEDIAN_ENTRIES)]:
        rows = np.flatnonzero(ids == entry)
        if len(rows) < 2:
            continue
        sims = unit[rows] @ unit[rows].T
        np.fill_diagonal(sims, -1.0)
        best.extend(sims.max(axis=1).tolist())
    return float(np.median(best)) if best else None


def _unit(vectors: Vectors) -> Vectors:
    unit: Vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return unit


def similar_questions(
    entries: Sequence[FaqEntry], vectors: Vectors, labels: Sequence[str], kinds: Sequence[str]
) -> list[str]:
    """Pairs of entries whose questions are as close as paraphrases of one entry."""
    closeness = paraphrase_closeness(vectors, labels, kinds)
    rows = [i for i, k in enumerate(kinds) if k == "question"]
    if closeness is None or len(rows) < 2:
        return []
    unit = _unit(vectors[rows])
    sims = np.triu(unit @ unit.T, k=1)
    pairs = np.argwhere(sims >= closeness)
    by_id = {e.id: e for e in entries}
    ranked = sorted(pairs.tolist(), key=lambda p: -sims[p[0], p[1]])[:MAX_PAIRS]
    out = []
    for i, j in ranked:
        a, b = by_id[labels[rows[i]]], by_id[labels[rows[j]]]
        out.append(
            f'{a.source}: "{a.question}" ({a.id}) and "{b.question}" ({b.id}, {b.source}) '
            f"ask nearly the same (similarity {sims[i, j]:.2f}, paraphrases here are "
            f"{closeness:.2f}): customers will get one when they mean the other; merge "
            "them, or make each question say what sets it apart"
        )
    return out
