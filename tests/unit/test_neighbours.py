"""The nearest-neighbour classifier that replaces the linear fit on large FAQs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from service.retrieval.classifier import REJECT_LABEL, PhrasingClassifier
from service.retrieval.neighbours import NeighbourClassifier, load_classifier
from service.retrieval.retriever import _top


def unit(v: list[float]) -> np.ndarray:
    a = np.asarray(v, dtype=np.float32)
    return a / np.linalg.norm(a)


def test_each_entry_is_weighed_against_the_nearest_decline_example() -> None:
    ids = [f"e{i}" for i in range(30)]
    clf = NeighbourClassifier(ids, np.stack([unit([0, 1, 0])]), temperature=0.05)
    assert clf.entry_ids == [*ids, REJECT_LABEL]
    sims = np.linspace(0.1, 0.8, len(ids), dtype=np.float32)
    query = unit([1, 0, 0])  # orthogonal to the decline example: cosine 0
    ranking, calibrated = clf.probabilities(query, sims)
    assert not ranking.any()  # the similarities are already in the ranking score
    # not a distribution over entries: many close entries do not dilute the top one
    assert calibrated[len(ids) - 1] > 0.99 and calibrated[len(ids) - 2] > 0.99
    assert calibrated[0] == pytest.approx(1 / (1 + np.exp(-0.1 / 0.05)), rel=1e-4)
    # a query at a decline example: every entry is less likely than the decline class
    _, declined = clf.probabilities(unit([0, 1, 0]), sims)
    assert declined[: len(ids)].max() < 0.02 and declined[-1] > 0.98
    logits = clf.pair_logits(np.array([0.8, 0.3]), np.stack([query, unit([0, 1, 0])]))
    assert np.allclose(logits, [[0.8, 0.0], [0.3, 1.0]], atol=1e-6)


def test_without_decline_examples_the_confidence_is_the_cosine_alone() -> None:
    clf = NeighbourClassifier(["a", "b"], np.zeros((0, 3), np.float32))
    assert clf.entry_ids == ["a", "b"]
    _, calibrated = clf.probabilities(unit([1, 0, 0]), np.array([0.2, 0.9], np.float32))
    assert calibrated.tolist() == [1.0, 1.0]
    assert clf.pair_logits(np.array([0.5]), unit([1, 0, 0])).shape == (1, 1)


def test_it_needs_the_similarities() -> None:
    with pytest.raises(ValueError, match="similarities"):
        NeighbourClassifier(["a", "b"], np.zeros((0, 3), np.float32)).logits(unit([1, 0, 0]))


def test_either_kind_loads_from_the_version_file(tmp_path: Path) -> None:
    neighbours = NeighbourClassifier(["a", "b"], np.stack([unit([0, 0, 1])]), 0.07)
    neighbours.save(tmp_path / "n.npz")
    loaded = load_classifier(tmp_path / "n.npz")
    assert isinstance(loaded, NeighbourClassifier)
    assert loaded.entry_ids == ["a", "b", REJECT_LABEL] and loaded.temperature == 0.07
    vectors = np.stack([unit([1, 0, 0]), unit([0, 1, 0]), unit([1, 0.1, 0])])
    linear = PhrasingClassifier.fit(vectors, ["a", "b", "a"], temperature=2.0)
    linear.save(tmp_path / "l.npz")  # the format from before the neighbour classifier
    again = load_classifier(tmp_path / "l.npz")
    assert isinstance(again, PhrasingClassifier) and again.temperature == 2.0
    assert np.allclose(again.logits(vectors), linear.logits(vectors))


@pytest.mark.parametrize("k", [1, 3, 10, 50])
def test_top_k_is_the_stable_sort_without_sorting_everything(k: int) -> None:
    rng = np.random.default_rng(k)
    score = np.round(rng.random(40), 1)  # many ties
    expected = np.argsort(-score, kind="stable")[:k]
    assert _top(score, k).tolist() == expected.tolist()
