"""The cross-lingual path's settings, chosen at ingest on held-out translations and
decline examples: the answer text's weight in the ranking, the confidence below which
it declines, and the lead below which it offers the next entries too. The service only
reads what they chose (service/retrieval/crosslingual.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from service.retrieval.crosslingual import DEFAULT_SUGGEST_MARGIN, CrossLingualIndex, Rows
from service.retrieval.embedder import Vectors

# Without enough translations or decline examples to calibrate on: what the calibration
# chose on our shop's FAQ (83 translated questions, 60 decline examples), rounded.
DEFAULT_ANSWER_WEIGHT = 0.4
DEFAULT_THRESHOLD = 0.4
# The suggestion lead with the classifier in the ranking, whose leads are wider (our
# FAQ: 0.218); without it, DEFAULT_SUGGEST_MARGIN.
DEFAULT_SUGGEST_MARGIN_CLASSIFIER = 0.2
MIN_HELD_OUT = 20  # fewer held-out examples than this: the defaults above
# Two decline examples this close say the same thing (often one translates the other):
# calibration leaves such a group out together, as a new question would be unseen.
PARAPHRASE_COSINE = 0.7
_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
_GRID = np.round(np.arange(0.2, 0.9001, 0.005), 3)


@dataclass(frozen=True)
class HeldOut:
    """Calibration material: translated questions with their entry (queried against the
    English texts only), and decline examples in the other languages."""

    questions: Vectors
    positions: npt.NDArray[np.int64]  # entry position of each translated question
    declines: Vectors
    # P(entry) of each, from classifiers that never saw it nor the texts it translates
    # (ingest/crosslingual.py); None: no classifier
    question_probs: npt.NDArray[np.float32] | None = None
    decline_probs: npt.NDArray[np.float32] | None = None


def choose_answer_weight(english: tuple[Rows, Rows], held: HeldOut) -> tuple[float, str]:
    """The weight that ranks the most translated questions first among the English
    texts, each scored as a new question would be: the English texts it paraphrases or
    translates (cosine >= PARAPHRASE_COSINE) are left out. Ties: the smaller weight."""
    if len(held.positions) < MIN_HELD_OUT:
        return DEFAULT_ANSWER_WEIGHT, f"default weight: fewer than {MIN_HELD_OUT} translations"
    questions = english[0]
    sims = held.questions @ questions.vectors.T
    sims = np.where(sims >= PARAPHRASE_COSINE, -1.0, sims)
    q = np.maximum.reduceat(sims, questions.starts, axis=1)
    a = english[1].best(held.questions)
    recall = [float((((1 - w) * q + w * a).argmax(1) == held.positions).mean()) for w in _WEIGHTS]
    best = int(np.argmax(recall))
    return _WEIGHTS[best], f"weight from {len(held.positions)} translated questions"


@dataclass(frozen=True)
class _HeldOutScores:
    best: npt.NDArray[np.int64]  # top entry per example
    top: npt.NDArray[np.float32]  # its score
    by_neighbour: npt.NDArray[np.bool_]  # a decline example is at least as close
    margin: npt.NDArray[np.float32]  # the top score's lead over the second


def _unseen(sims: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return np.where(sims >= PARAPHRASE_COSINE, np.float32(-1.0), sims)


def _score_held_out(
    index: CrossLingualIndex, vectors: Vectors, probs: npt.NDArray[np.float32] | None
) -> _HeldOutScores:
    """Each example scored as a new question would be: the texts it paraphrases or
    translates (cosine >= PARAPHRASE_COSINE), itself included, are left out, and its
    classifier probabilities (``probs``) come from a classifier that never saw them."""
    q = np.maximum.reduceat(_unseen(vectors @ index.questions.vectors.T), index.questions.starts, 1)
    a = np.maximum.reduceat(_unseen(vectors @ index.answers.vectors.T), index.answers.starts, 1)
    mixed = (1 - index.answer_weight) * q + index.answer_weight * a
    ranking = mixed if probs is None else mixed + index.classifier_weight * probs
    best = ranking.argmax(1)
    rows = np.arange(len(vectors))
    nearest = _unseen(vectors @ index.declines.T).max(1) if len(index.declines) else -1.0
    two = np.sort(ranking, axis=1)[:, -2:] if ranking.shape[1] > 1 else np.zeros((len(rows), 2))
    lead = (two[:, 1] - two[:, 0]).astype(np.float32)
    return _HeldOutScores(best, mixed[rows, best], nearest >= q[rows, best], lead)


def choose_threshold(
    index: CrossLingualIndex, held: HeldOut, target_oos_recall: float
) -> tuple[float, str]:
    """With enough translated questions: the threshold with the best balanced accuracy
    over them and the other languages' decline examples (ties: the highest), both held
    out. Else: the lowest threshold that declines ``target_oos_recall`` of the decline
    examples. A recall target alone swings with one example on a list of 60."""
    if len(held.declines) < MIN_HELD_OUT:
        return DEFAULT_THRESHOLD, f"default threshold: fewer than {MIN_HELD_OUT} declines"
    out = _score_held_out(index, held.declines, held.decline_probs)
    if len(held.positions) >= MIN_HELD_OUT:
        ins = _score_held_out(index, held.questions, held.question_probs)
        right = (ins.best == held.positions) & ~ins.by_neighbour
        balanced = [
            (np.mean(right & (ins.top >= t)) + np.mean(out.by_neighbour | (out.top < t))) / 2
            for t in _GRID
        ]
        best = len(balanced) - 1 - int(np.argmax(balanced[::-1]))
        return float(_GRID[best]), (
            f"threshold from {len(held.positions)} translated questions and "
            f"{len(held.declines)} decline examples, held out"
        )
    for t in _GRID:
        if np.mean(out.by_neighbour | (out.top < t)) >= target_oos_recall:
            return float(t), f"threshold from {len(held.declines)} held-out decline examples"
    return float(_GRID[-1]), "no threshold reached the target; the highest was used"


def choose_suggest_margin(index: CrossLingualIndex, held: HeldOut) -> float:
    """The lead over the second entry that 90% of the wrong held-out answers stay under:
    below it an answer also offers the next entries. Too few wrong answers: the default."""
    default = (
        DEFAULT_SUGGEST_MARGIN if index.classifier is None else DEFAULT_SUGGEST_MARGIN_CLASSIFIER
    )
    if len(held.positions) < MIN_HELD_OUT:
        return default
    scores = _score_held_out(index, held.questions, held.question_probs)
    wrong = scores.best != held.positions
    if wrong.sum() < 5:
        return default
    return float(np.percentile(scores.margin[wrong], 90))
