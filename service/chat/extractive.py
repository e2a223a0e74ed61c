"""Extractive answers: the few sentences of the entry that answer the question, in the
entry's order. Nothing is written that the FAQ does not say, at the cost of an
embedding call (milliseconds), so it cannot hallucinate."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from service.retrieval.embedder import Vectors

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9*(\"'])|\n+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_NUMBER = re.compile(r"\d")
# Sizes and units a customer asks about by name ("in XL?", "size 42").
_SIZES = {"xxs", "xs", "s", "m", "l", "xl", "xxl", "xxxl"}


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
    chosen = {i for i in ranked[:max_sentences] if float(sims[i]) >= best - margin}
    needed = slot_sentences(question, parts)
    if not needed <= chosen:
        # The sentence that holds what was asked for ("to Germany", "in XL") was not
        # among the closest: it joins them, or, if that is too many, the whole entry.
        chosen |= needed
        if len(chosen) > max_sentences:
            return answer.strip()
    return " ".join(parts[i] for i in sorted(chosen))


def slot_sentences(question: str, parts: list[str]) -> set[int]:
    """The sentences naming a slot the question fills: a name the answer capitalises
    (a country, a carrier, a brand), a number or a size, that the question names too.
    Words the answer only writes in lower case are topic words, not slots."""
    asked = {w.casefold() for w in _WORD.findall(question)}
    found: set[int] = set()
    for i, part in enumerate(parts):
        words = _WORD.findall(part)
        for pos, word in enumerate(words):
            key = word.casefold()
            if key not in asked:
                continue
            proper = pos > 0 and word[0].isupper() and not word.isupper()  # "Germany"
            acronym = len(word) > 1 and word.isupper()  # "DHL", "XL"
            if proper or acronym or _NUMBER.search(word) or (key in _SIZES and word.isupper()):
                found.add(i)
                break
    return found
