"""A linear classifier over the index's own vectors: each entry's question, alternate
phrasings and answer chunks are labelled examples of that entry. Refit at every ingest;
at query time it is one matrix product and a softmax, with no scikit-learn needed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from service.retrieval.embedder import Vectors

# Measured on ../shared/eval: C=10 gave the best recall@1 on both sets (C=1 underfits
# the 100-phrasing intents of CLINC150, C=100 overfits the single-question StackFAQ).
REGULARISATION_C = 10.0


class PhrasingClassifier:
    def __init__(
        self, entry_ids: Sequence[str], coef: npt.NDArray[np.float32], intercept: npt.NDArray[np.float32]
    ) -> None:
        self.entry_ids = list(entry_ids)
        self._coef = coef
        self._intercept = intercept

    @classmethod
    def fit(cls, vectors: Vectors, labels: Sequence[str]) -> PhrasingClassifier:
        classes = sorted(set(labels))
        dim = vectors.shape[1] if vectors.ndim == 2 else 0
        if len(classes) < 2:
            # One entry: it is the only possible answer; the cosine still gates abstention.
            return cls(classes, np.zeros((len(classes), dim), np.float32), np.zeros(len(classes), np.float32))
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=REGULARISATION_C, max_iter=300)
        model.fit(vectors, labels)
        coef = np.asarray(model.coef_, dtype=np.float32)
        intercept = np.asarray(model.intercept_, dtype=np.float32)
        if len(classes) == 2:
            # Binary fits return one row w for class 1; softmax over [0, w] equals the sigmoid.
            coef = np.vstack([np.zeros_like(coef), coef])
            intercept = np.concatenate([np.zeros(1, np.float32), intercept])
        return cls([str(c) for c in model.classes_], coef, intercept)

    def save(self, path: Path) -> None:
        np.savez(path, coef=self._coef, intercept=self._intercept, entry_ids=np.array(self.entry_ids))

    @classmethod
    def load(cls, path: Path) -> PhrasingClassifier:
        with np.load(path, allow_pickle=False) as data:
            return cls([str(x) for x in data["entry_ids"]], data["coef"], data["intercept"])

    def probabilities(self, query_vector: Vectors) -> npt.NDArray[np.float32]:
        """P(entry | query) for every entry, in ``entry_ids`` order."""
        logits = self._coef @ query_vector.reshape(-1) + self._intercept
        logits = logits - logits.max()
        exp = np.exp(logits)
        return (exp / exp.sum()).astype(np.float32)
