"""Ingest's advice on an FAQ that will confuse customers: what is said, with what to do."""

from __future__ import annotations

import numpy as np

from ingest.advice import BUBBLE_CHARS, entry_advice, paraphrase_closeness, similar_questions
from service.retrieval.schema import FaqEntry


def unit(*xs: float) -> list[float]:
    v = np.array(xs, dtype=np.float32)
    return list(v / np.linalg.norm(v))


def test_entries_without_phrasings_and_long_answers_are_pointed_out() -> None:
    entries = [
        FaqEntry(
            "a", "How do I get my invoice?", "In your account.", ("invoice",), source="f.md:3"
        ),
        FaqEntry("b", "Can I pay later?", "x" * (BUBBLE_CHARS + 1), source="f.md:9"),
    ]
    advice = entry_advice(entries)
    assert len(advice) == 2
    assert advice[0].startswith('f.md:9: entry "b" has no other phrasings')
    assert "more than a chat bubble shows" in advice[1]


def test_two_entries_asking_the_same_are_named_with_what_to_do() -> None:
    # entry a: question and two phrasings close together; b's question next to a's
    vectors = np.array(
        [unit(1, 0.1, 0), unit(1, 0.2, 0), unit(1, 0, 0.2), unit(1, 0.12, 0.01), unit(0, 0, 1)]
    )
    labels = ["a", "a", "a", "b", "c"]
    kinds = ["question", "phrasing", "phrasing", "question", "question"]
    entries = [
        FaqEntry("a", "How do I get my invoice?", ".", source="f.md:3"),
        FaqEntry("b", "How do I check my invoice?", ".", source="f.md:9"),
        FaqEntry("c", "Do you ship abroad?", ".", source="g.md:2"),
    ]
    said = similar_questions(entries, vectors, labels, kinds)
    assert len(said) == 1 and "(a)" in said[0] and "(b, f.md:9)" in said[0]
    assert "merge them" in said[0]
    closeness = paraphrase_closeness(vectors, labels, kinds)
    assert closeness is not None and 0.9 < closeness < 1.0
