"""The classifier for FAQs too large for the linear fit: a nearest-neighbour test of
the query against the entries and the decline examples.

The linear fit (classifier.py) costs about entries x vectors per iteration, so it is
minutes at a few thousand entries and infeasible at 100,000. This one fits nothing: its
only parameter is the temperature, calibrated at ingest like the linear one's, and at
query time it reads the similarities the vector search already computed plus one
product with the decline examples' vectors.

Each entry's "probability" is that of a two-way softmax between the entry's best cosine
and the nearest decline example's: the chance that the query is that entry's kind of
question rather than one the shop declines. It is not a distribution over entries: a
softmax over many close entries would spread out on every ambiguous in-scope question
and make it abstain (measured: in-scope accuracy 0.59 on our FAQ that way). Without
decline examples it is 1, and the confidence is the cosine alone. It adds nothing to the
ranking, which already has the similarities.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from service.retrieval.classifier import REJECT_LABEL, FloatArray, PhrasingClassifier
from service.retrieval.embedder import Vectors

KIND = "neighbours"


class NeighbourClassifier:
    uses_similarities = True

    def __init__(self, entry_ids: Sequence[str], declines: Vectors, temperature: float = 1.0):
        self._entries = list(entry_ids)
        self._declines = np.asarray(declines, dtype=np.float32)
        self.entry_ids = [*self._entries, REJECT_LABEL] if len(self._declines) else self._entries
        self.temperature = temperature

    def nearest_decline(self, query_vectors: Vectors) -> FloatArray | None:
        """Each query's best cosine to a decline example (None without examples)."""
        if not len(self._declines):
            return None
        queries = np.atleast_2d(query_vectors).astype(np.float32)
        return (queries @ self._declines.T).max(axis=1)  # type: ignore[no-any-return]

    def pair_logits(self, top_sims: FloatArray, query_vectors: Vectors) -> FloatArray:
        """Per query, the two logits of the two-way softmax: [the top entry's cosine, the
        nearest decline example's cosine] (one column without decline examples). The
        calibration fits the temperature on these."""
        top = np.asarray(top_sims, dtype=np.float32).reshape(-1, 1)
        decline = self.nearest_decline(query_vectors)
        return top if decline is None else np.hstack([top, decline[:, None]])

    def logits(self, query_vectors: Vectors, entry_sims: FloatArray | None = None) -> FloatArray:
        """``entry_sims``: each query's best cosine to each entry, in ``entry_ids`` order
        (the decline class excluded); the nearest decline example's cosine is appended."""
        if entry_sims is None:
            raise ValueError("the neighbour classifier needs the query's entry similarities")
        sims = np.atleast_2d(np.asarray(entry_sims, dtype=np.float32))
        decline = self.nearest_decline(query_vectors)
        return sims if decline is None else np.hstack([sims, decline[:, None]])

    def probabilities(
        self, query_vector: Vectors, entry_sims: FloatArray | None = None
    ) -> tuple[FloatArray, FloatArray]:
        """(ranking, calibrated): zeros for the ranking; per entry, P(entry's kind rather
        than declined) at the calibrated temperature."""
        logits = self.logits(query_vector, entry_sims)[0]
        n = len(self._entries)
        if len(logits) == n:
            calibrated = np.ones(n, dtype=np.float32)
        else:
            gap = (logits[n] - logits[:n]) / self.temperature
            in_scope = 1.0 / (1.0 + np.exp(np.clip(gap, -50, 50)))
            calibrated = np.append(in_scope, 1.0 - in_scope.max()).astype(np.float32)
        return np.zeros_like(calibrated), calibrated

    def with_temperature(self, temperature: float) -> NeighbourClassifier:
        return NeighbourClassifier(self._entries, self._declines, temperature)

    def save(self, path: Path) -> None:
        np.savez(
            path,
            kind=np.array(KIND),
            entry_ids=np.array(self._entries),
            declines=self._declines,
            temperature=np.array([self.temperature], dtype=np.float64),
        )

    @classmethod
    def load(cls, path: Path) -> NeighbourClassifier:
        with np.load(path, allow_pickle=False) as data:
            return cls(
                [str(x) for x in data["entry_ids"]],
                data["declines"],
                float(data["temperature"][0]),
            )


EntryClassifier = PhrasingClassifier | NeighbourClassifier


def load_classifier(path: Path) -> EntryClassifier:
    """Either kind, as the version's classifier file says (files from before the
    neighbour classifier hold the linear one)."""
    with np.load(path, allow_pickle=False) as data:
        kind = str(data["kind"]) if "kind" in data.files else "linear"
    return NeighbourClassifier.load(path) if kind == KIND else PhrasingClassifier.load(path)
