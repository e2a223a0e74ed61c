"""faqbot's own questions that no shop's FAQ answers (chit-chat, general knowledge,
other trades, homework: ``generic_declines/<lang>.txt``), used at ingest beside the
shop's decline examples, so that a shop without a decline list is calibrated too.

A shop may answer what is generic elsewhere (a ticket shop sells concert tickets), so
a generic question as close to one of the shop's entries as the FAQ's own paraphrases
are to theirs is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ingest.advice import paraphrase_closeness
from service.retrieval.embedder import Vectors

FOLDER = Path(__file__).with_name("generic_declines")


@cache
def generic_questions(lang: str = "en") -> tuple[str, ...]:
    """The questions of one language (none for a language without a file)."""
    path = FOLDER / f"{lang}.txt"
    if not path.is_file():
        return ()
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return tuple(dict.fromkeys(q for q in lines if q and not q.startswith("#")))


def outside_faq(
    generic: Vectors, vectors: Vectors, labels: Sequence[str], kinds: Sequence[str]
) -> npt.NDArray[np.bool_]:
    """Which generic questions are farther from every entry's questions than the FAQ's
    paraphrases typically are from theirs."""
    if len(generic) == 0:
        return np.zeros(0, dtype=bool)
    rows = [i for i, k in enumerate(kinds) if k in ("question", "phrasing")]
    if not rows:
        return np.ones(len(generic), dtype=bool)
    closeness = paraphrase_closeness(vectors, labels, kinds)
    # An FAQ without paraphrases: MiniLM's paraphrases sit above about 0.6 (CLINC150,
    # StackFAQ), a generic question rarely does by chance.
    limit = 0.6 if closeness is None else closeness
    best = (generic @ vectors[rows].T).max(axis=1)
    return best < limit  # type: ignore[no-any-return]
