"""BM25 over whole entries (question, phrasings, answer), built once per index version."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

_TOKEN = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "if",
        "in",
        "into",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "will",
        "with",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "do",
        "does",
        "did",
        "can",
        "could",
        "would",
        "should",
        "how",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
    ]
)


def tokenize(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if t not in _STOPWORDS]


class LexicalIndex:
    def __init__(self, entry_ids: Sequence[str], retriever: object, vocab: frozenset[str]):
        self.entry_ids = list(entry_ids)
        self._retriever = retriever
        self._vocab = vocab

    @classmethod
    def build(cls, entry_ids: Sequence[str], texts: Sequence[str]) -> LexicalIndex:
        import bm25s

        corpus = [tokenize(t) or ["_empty_"] for t in texts]
        retriever = bm25s.BM25()
        retriever.index(corpus, show_progress=False)
        vocab = frozenset(t for doc in corpus for t in doc)
        return cls(entry_ids, retriever, vocab)

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self._retriever.save(str(path), show_progress=False)  # type: ignore[attr-defined]
        (path / "entries.json").write_text(
            json.dumps({"entry_ids": self.entry_ids, "vocab": sorted(self._vocab)}),
            encoding="utf-8",
        )

    @classmethod
    def load(cls, path: Path) -> LexicalIndex:
        import bm25s

        meta = json.loads((path / "entries.json").read_text(encoding="utf-8"))
        retriever = bm25s.BM25.load(str(path), show_progress=False, verbosity=0)
        return cls(meta["entry_ids"], retriever, frozenset(meta["vocab"]))

    @property
    def vocabulary(self) -> frozenset[str]:
        """The words of the entries' texts (stop words left out)."""
        return self._vocab

    def scores(self, query: str) -> npt.NDArray[np.float32]:
        """BM25 score per entry, divided by the best one for this query (0..1)."""
        tokens = [t for t in tokenize(query) if t in self._vocab]
        if not tokens:
            return np.zeros(len(self.entry_ids), dtype=np.float32)
        raw = np.asarray(self._retriever.get_scores(tokens), dtype=np.float32)  # type: ignore[attr-defined]
        top = float(raw.max()) if raw.size else 0.0
        return raw / top if top > 0 else np.zeros_like(raw)
