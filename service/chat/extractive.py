"""Extractive answers: the few sentences of the entry that answer the question, in the
entry's order. Nothing is written that the FAQ does not say, at the cost of an
embedding call (milliseconds), so it cannot hallucinate."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from service.retrieval.embedder import Vectors

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9*(\"'])|\n+")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


def extract(
    question: str,
    answer: str,
    embed: Callable[[list[str]], Vectors],
    max_sentences: int = 3,
    margin: float = 0.12,
) -> str:
    """The answer's sentences closest to the question: the best one, and any within
    `margin` of it, at most `max_sentences`, in the entry's order. Short answers are
    kept whole: there is nothing to leave out."""
    parts = sentences(answer)
    if len(parts) <= 2:
        return answer.strip()
    vectors = embed([question, *parts])
    sims = np.asarray(vectors[1:] @ vectors[0], dtype=np.float32)
    ranked = [int(i) for i in np.argsort(-sims)]
    best = float(sims[ranked[0]])
    chosen = [i for i in ranked[:max_sentences] if float(sims[i]) >= best - margin]
    return " ".join(parts[i] for i in sorted(chosen))
