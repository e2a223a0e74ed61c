"""A linear classifier over the index's own vectors: each entry's question, alternate
phrasings and answer chunks are labelled examples of that entry, and the shop's decline
examples (questions it does not answer) are one more class, ``REJECT_LABEL``. Refit at
every ingest; at query time it is one matrix product and a softmax, no scikit-learn.

Its probabilities are divided by a temperature chosen at ingest on cross-validated
held-out phrasings (ingest/calibrate.py), so that "0.6" means about the same on an FAQ
with 3 phrasings per entry as on one with 100.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from service.retrieval.embedder import Vectors

# Measured on ../shared/eval: C=10 gave the best recall@1 on both sets (C=1 underfits
# the 100-phrasing intents of CLINC150, C=100 overfits the single-question StackFAQ).
REGULARISATION_C = 10.0
REJECT_LABEL = "__decline__"  # not an entry id: ids must start with a letter or digit
FloatArray = npt.NDArray[np.float32]


def with_declines(
    vectors: Vectors, labels: Sequence[str], declines: Vectors, generic: int = 0
) -> tuple[Vectors, list[str], npt.NDArray[np.float64] | None]:
    """The training set: the index's vectors with their entries' labels, then the decline
    examples as the one extra class, and each row's weight. The last ``generic`` decline
    rows are faqbot's own generic questions (ingest/generic.py): together they weigh as
    much as a typical entry's texts, so that on a small FAQ the decline class does not
    outweigh the entries by its numbers alone (measured: docs/retrieval.md)."""
    if not len(declines):
        return vectors, list(labels), None
    all_labels = [*labels, *[REJECT_LABEL] * len(declines)]
    weights = None
    if generic:
        _, counts = np.unique(np.asarray(labels), return_counts=True)
        share = min(1.0, float(np.median(counts)) / generic) if len(counts) else 1.0
        weights = np.ones(len(all_labels))
        weights[len(all_labels) - generic :] = share
    return np.vstack([vectors, declines]), all_labels, weights


def softmax(logits: npt.NDArray[np.floating]) -> npt.NDArray[np.floating]:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)  # type: ignore[no-any-return]


class PhrasingClassifier:
    uses_similarities = False  # it reads the query vector only

    def __init__(
        self,
        entry_ids: Sequence[str],
        coef: FloatArray,
        intercept: FloatArray,
        temperature: float = 1.0,
    ) -> None:
        self.entry_ids = list(entry_ids)
        self._coef = coef
        self._intercept = intercept
        self.temperature = temperature

    @classmethod
    def fit(
        cls,
        vectors: Vectors,
        labels: Sequence[str],
        weights: npt.NDArray[np.float64] | None = None,
        *,
        temperature: float = 1.0,
        start_from: PhrasingClassifier | None = None,
    ) -> PhrasingClassifier:
        """``start_from``: a previous version's classifier; its weights for the classes
        that still exist are the starting point, so an edit of a few entries converges
        in a few iterations instead of a full fit (measured: 0.1 s against 4 s on
        CLINC150's 15,000 vectors)."""
        classes = sorted(set(labels))
        dim = vectors.shape[1] if vectors.ndim == 2 else 0
        if len(classes) < 2:
            # One entry: it is the only possible answer; the cosine still gates abstention.
            return cls(
                classes,
                np.zeros((len(classes), dim), np.float32),
                np.zeros(len(classes), np.float32),
            )
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=REGULARISATION_C, max_iter=300, warm_start=True)
        if start_from is not None and len(classes) > 2:
            model.coef_, model.intercept_ = start_from.weights_for(classes, dim)
        model.fit(vectors, np.array(labels), sample_weight=weights)
        coef, intercept = _weights(model)
        return cls([str(c) for c in model.classes_], coef, intercept, temperature)

    @property
    def dimension(self) -> int:
        return int(self._coef.shape[1])

    def weights_for(
        self, classes: Sequence[str], dim: int
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """This model's weights re-ordered for ``classes``; zeros for new ones."""
        where = {c: i for i, c in enumerate(self.entry_ids)}
        coef = np.zeros((len(classes), dim))
        intercept = np.zeros(len(classes))
        for row, c in enumerate(classes):
            i = where.get(c)
            if i is not None and self._coef.shape[1] == dim:
                coef[row] = self._coef[i]
                intercept[row] = self._intercept[i]
        return coef, intercept

    def logits(self, query_vectors: Vectors, entry_sims: FloatArray | None = None) -> FloatArray:
        """One row of logits per query (``entry_ids`` order, the decline class included).
        ``entry_sims`` is ignored: it is for the neighbour classifier (neighbours.py)."""
        q = np.atleast_2d(query_vectors)
        return q @ self._coef.T + self._intercept

    def with_temperature(self, temperature: float) -> PhrasingClassifier:
        return PhrasingClassifier(self.entry_ids, self._coef, self._intercept, temperature)

    def save(self, path: Path) -> None:
        np.savez(
            path,
            coef=self._coef,
            intercept=self._intercept,
            entry_ids=np.array(self.entry_ids),
            temperature=np.array([self.temperature], dtype=np.float64),
        )

    @classmethod
    def load(cls, path: Path) -> PhrasingClassifier:
        with np.load(path, allow_pickle=False) as data:
            return cls(
                [str(x) for x in data["entry_ids"]],
                data["coef"],
                data["intercept"],
                float(data["temperature"][0]),
            )

    def probabilities(
        self, query_vector: Vectors, entry_sims: FloatArray | None = None
    ) -> tuple[FloatArray, FloatArray]:
        """(raw, calibrated) P(class | query) for every class, in ``entry_ids`` order.
        Ranking uses the raw ones (the fusion weights were measured with them);
        abstention uses the calibrated ones. The decline class takes its share of both."""
        logits = self.logits(query_vector)[0]
        raw = softmax(logits).astype(np.float32)
        calibrated = softmax(logits / self.temperature).astype(np.float32)
        return raw, calibrated


def _weights(model: Any) -> tuple[FloatArray, FloatArray]:
    coef = np.asarray(model.coef_, dtype=np.float32)
    intercept = np.asarray(model.intercept_, dtype=np.float32)
    if coef.shape[0] == 1:
        # Binary fits return one row w for class 1; softmax over [0, w] equals the sigmoid.
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.concatenate([np.zeros(1, np.float32), intercept])
    return coef, intercept
