"""faqbot's generic out-of-scope questions (ingest/generic.py): six languages, and a
shop's own trade is never among them."""

from __future__ import annotations

import numpy as np

from ingest.generic import generic_questions, outside_faq


def test_every_language_has_its_list_and_comments_are_not_questions() -> None:
    for lang in ("en", "de", "fr", "es", "it", "nl"):
        questions = generic_questions(lang)
        assert len(questions) >= 25, lang
        assert not any(q.startswith("#") or not q.strip() for q in questions)
    assert len(generic_questions("en")) >= 150
    assert generic_questions("xx") == ()


def test_a_generic_question_as_close_as_the_shops_paraphrases_is_left_out() -> None:
    # two entries, each with a paraphrase at cosine 0.8 to its question
    def unit(v: list[float]) -> np.ndarray:
        a = np.array(v, dtype=np.float32)
        return a / np.linalg.norm(a)

    vectors = np.stack(
        [unit([1, 0, 0, 0]), unit([0.8, 0.6, 0, 0]), unit([0, 0, 1, 0]), unit([0, 0, 0.8, 0.6])]
    )
    labels = ["tickets", "tickets", "returns", "returns"]
    kinds = ["question", "phrasing", "question", "phrasing"]
    generic = np.stack([unit([0.95, 0.05, 0, 0.3]), unit([0, 0.2, 0.1, -1])])
    keep = outside_faq(generic, vectors, labels, kinds)
    assert keep.tolist() == [False, True]  # "do you sell concert tickets" at a ticket shop
