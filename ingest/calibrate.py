"""Cross-validated calibration at ingest: score each fold of held-out phrasings and
decline examples against a model built without them, then choose the temperature and
the thresholds from those rows only (ingest/calibration_rules.py says how)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ingest.calibration_rules import CalibrationRows, calibrate
from service.config import RetrievalSettings
from service.retrieval.calibration import Calibration
from service.retrieval.classifier import (
    REJECT_LABEL,
    PhrasingClassifier,
    softmax,
    with_declines,
)
from service.retrieval.embedder import Vectors
from service.retrieval.neighbours import EntryClassifier, NeighbourClassifier
from service.retrieval.scoring import confidence, fused_scores

# Three folds: each classifier fit costs seconds on a large FAQ (3.4 s at 1,000 entries),
# and editors wait for ingest; five folds took 17 s there.
FOLDS = 3
MIN_HELD_OUT = 10  # fewer held-out rows than this: leave the temperature at 1
# Each held-out row is compared with every kept vector: at 100,000 entries (500,000
# vectors) all phrasings would cost minutes, and a few hundred rows per fold are
# enough to place two thresholds. Smaller FAQs hold out every phrasing.
SIMILARITY_BUDGET = 100_000_000  # held-out rows x vectors, per fold (CLINC150: 7.5e7)


def calibrate_index(
    vectors: Vectors,
    labels: Sequence[str],
    kinds: Sequence[str],
    declines: Vectors,
    settings: RetrievalSettings,
    *,
    linear: bool = True,
    generic: int = 0,
) -> tuple[Calibration, PhrasingClassifier | None]:
    """The calibration, and the last fold's classifier: a close starting point for the
    full fit, which then converges in a few iterations. ``linear=False`` calibrates the
    neighbour classifier (neighbours.py) instead, and returns no classifier. The last
    ``generic`` rows of ``declines`` are faqbot's own generic questions (generic.py),
    the others the shop's."""
    rows, temperature, last = cross_validate(
        vectors, labels, kinds, declines, settings, linear=linear, generic=generic
    )
    calibration = calibrate(
        rows,
        temperature,
        target_oos_recall=settings.target_oos_recall,
        target_canonical_precision=settings.target_canonical_precision,
        fallback_abstain=settings.default_abstain_threshold,
        fallback_canonical=(
            settings.default_canonical_threshold,
            settings.default_canonical_margin,
        ),
    )
    return calibration, last


@dataclass
class _Part:
    """One fold's held-out rows."""

    classes: list[str]
    logits: npt.NDArray[np.floating]
    targets: list[int]
    gold: list[str]
    top: list[str]
    top_column: list[int]  # the top entry's column in ``logits``
    cosine: list[float]
    margin: list[float]
    group: list[str]  # each row's Group (calibration.py)


def cross_validate(
    vectors: Vectors,
    labels: Sequence[str],
    kinds: Sequence[str],
    declines: Vectors,
    settings: RetrievalSettings,
    *,
    linear: bool = True,
    generic: int = 0,
) -> tuple[CalibrationRows, float, PhrasingClassifier | None]:
    """Pooled held-out rows and the temperature that minimises their log-loss. Only
    alternate phrasings are held out (an entry keeps its question and answer), each
    scored as itself and with its own entry gone ("absent": a question of the trade the
    FAQ does not answer). Each fold's fit starts from the previous fold's weights."""
    label_arr = np.array(labels)
    kind_arr = np.array(kinds)
    first_generic = len(declines) - generic
    folds = _Folds.assign(kind_arr, len(declines))
    parts, absents = list[_Part](), list[_Part]()
    clf: PhrasingClassifier | None = None
    for fold in range(FOLDS):
        held, held_declines = folds.held(fold)
        if len(held) + len(held_declines) == 0:
            continue
        keep = np.ones(len(label_arr), dtype=bool)
        keep[held] = False
        kept = folds.decline_fold != fold
        generic_kept = int(kept[first_generic:].sum())
        model = _fold_model(
            vectors[keep], label_arr[keep], declines[kept], generic_kept, clf, linear
        )
        clf = model if isinstance(model, PhrasingClassifier) else clf
        queries = np.vstack([vectors[held], declines[held_declines]])
        gold = [*label_arr[held].tolist(), *([""] * len(held_declines))]
        part, absent = _score_fold(
            model, queries, gold, vectors[keep], label_arr[keep], kind_arr[keep], settings
        )
        kinds_held = np.where(held_declines >= first_generic, "generic", "decline").tolist()
        part.group = [*(["in"] * len(held)), *kinds_held]
        parts.append(part)
        if absent is not None:
            absents.append(absent)
    # Entries keep their question in every fold, so only the decline class can be missing
    # from a fold (fewer declines than folds); such a fold cannot be pooled.
    parts = [p for p in parts if p.classes == parts[0].classes]
    absents = [p for p in absents if parts and p.classes == parts[0].classes]
    return (*_pool(parts, absents), clf)


@dataclass
class _Folds:
    """Which fold holds out each alternate phrasing and each decline: seeded, so the
    same FAQ always gives the same calibration; over the similarity budget, each fold
    holds out a random subset of the phrasings."""

    phrasings: np.ndarray  # the records that are alternate phrasings
    record_fold: np.ndarray
    sampled: np.ndarray
    decline_fold: np.ndarray

    @classmethod
    def assign(cls, kinds: np.ndarray, declines: int) -> _Folds:
        rng = np.random.default_rng(0)
        phrasings = np.flatnonzero(kinds == "phrasing")
        per_fold = max(MIN_HELD_OUT, SIMILARITY_BUDGET // max(1, len(kinds)))
        shuffled = rng.permutation(len(phrasings))
        decline_fold = rng.permutation(declines) % FOLDS
        return cls(phrasings, shuffled % FOLDS, shuffled < per_fold * FOLDS, decline_fold)

    def held(self, fold: int) -> tuple[np.ndarray, np.ndarray]:
        held = self.phrasings[(self.record_fold == fold) & self.sampled]
        return held, np.flatnonzero(self.decline_fold == fold)


def _fold_model(
    vectors: Vectors,
    labels: npt.NDArray[np.str_],
    declines: Vectors,
    generic: int,
    previous: PhrasingClassifier | None,
    linear: bool,
) -> EntryClassifier:
    """One fold's classifier, fit on what the fold keeps."""
    if linear:
        return PhrasingClassifier.fit(
            *with_declines(vectors, labels.tolist(), declines, generic), start_from=previous
        )
    return NeighbourClassifier(sorted(set(labels.tolist())), declines)


def _pool(parts: list[_Part], absents: list[_Part]) -> tuple[CalibrationRows, float]:
    """The temperature is fit on the rows whose right class exists (not the absent
    ones), then every row's confidence is computed with it."""
    if not parts:
        empty = np.array([], dtype=str)
        return CalibrationRows(empty, empty, np.array([]), np.array([]), empty), 1.0
    logits = np.vstack([p.logits for p in parts])
    targets = np.array([t for p in parts for t in p.targets])
    temperature = best_temperature(logits, targets) if len(targets) >= MIN_HELD_OUT else 1.0
    every = [*parts, *absents]
    logits = np.vstack([p.logits for p in every])
    tops = [t for p in every for t in p.top]
    columns = [c for p in every for c in p.top_column]
    p_top = softmax(logits / temperature)[np.arange(len(tops)), columns]
    cosines = np.array([c for p in every for c in p.cosine])
    rows = CalibrationRows(
        gold=np.array([g for p in every for g in p.gold]),
        top=np.array(tops),
        confidence=np.asarray(confidence(p_top, cosines), dtype=np.float64),
        margin=np.array([m for p in every for m in p.margin]),
        group=np.array([g for p in every for g in p.group]),
    )
    return rows, temperature


def _score_fold(
    clf: EntryClassifier,
    queries: Vectors,
    gold: list[str],
    vectors: Vectors,
    labels: npt.NDArray[np.str_],
    kinds: npt.NDArray[np.str_],
    settings: RetrievalSettings,
) -> tuple[_Part, _Part | None]:
    """The fused score of every entry for each held-out query, exactly as search
    computes it except for BM25 (its weight is small, and it is not worth a BM25 index
    per fold); and, for the linear classifier, the in-scope queries scored again with
    their own entry removed (its vectors and its class), as if the FAQ lacked it."""
    entries = sorted(set(labels.tolist()))
    owner = np.searchsorted(entries, labels)
    sims = queries @ vectors.T
    question_sim = _best_per_entry(sims, owner, kinds != "chunk", len(entries))
    chunk_sim = _best_per_entry(sims, owner, kinds == "chunk", len(entries))
    chunk_sim = np.where(np.isneginf(chunk_sim), question_sim, chunk_sim)
    where = {c: i for i, c in enumerate(clf.entry_ids)}
    if isinstance(clf, NeighbourClassifier):
        probs = np.zeros_like(question_sim)  # it adds nothing to the ranking (neighbours.py)
    else:
        logits = clf.logits(queries)  # once: for the ranking here and the temperature below
        probs = softmax(logits)[:, [where[e] for e in entries]]
    score = fused_scores(question_sim, chunk_sim, probs, np.zeros_like(probs), settings)
    top, best_cos, margin = _ranked(score, question_sim, chunk_sim)
    absent = None
    if isinstance(clf, NeighbourClassifier):
        # two classes, the top entry's kind or declined: what the temperature is fit on
        logits = clf.pair_logits(best_cos, queries)
        classes = ["", REJECT_LABEL][: logits.shape[1]]
        targets = [0 if g else 1 for g in gold]
        columns = [0] * len(gold)
    else:
        absent = _absent_rows(clf, entries, gold, question_sim, chunk_sim, logits, settings)
        classes = clf.entry_ids
        targets = [where[g] if g else where[REJECT_LABEL] for g in gold]
        columns = [where[entries[i]] for i in top]
    tops = [entries[i] for i in top]
    part = _Part(
        classes, logits, targets, gold, tops, columns, best_cos.tolist(), margin.tolist(), []
    )
    return part, absent


def _ranked(
    score: npt.NDArray[np.floating],
    question_sim: npt.NDArray[np.floating],
    chunk_sim: npt.NDArray[np.floating],
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.floating], npt.NDArray[np.floating]]:
    """Per row: the top entry, its best cosine, and (as search) its lead over the
    second entry, or the whole score when there is one."""
    order = _top_two(score)
    rows = np.arange(len(score))
    top = order[:, 0]
    best_cos = np.maximum(question_sim, chunk_sim)[rows, top]
    second = score[rows, order[:, 1]] if score.shape[1] > 1 else 0.0
    margin = np.where(np.isfinite(second), score[rows, top] - second, score[rows, top])
    return top, best_cos, margin


def _absent_rows(
    clf: EntryClassifier,
    entries: list[str],
    gold: list[str],
    question_sim: npt.NDArray[np.floating],
    chunk_sim: npt.NDArray[np.floating],
    logits: npt.NDArray[np.floating],
    settings: RetrievalSettings,
) -> _Part | None:
    """The in-scope rows with their own entry gone: its similarities out of the ranking
    and its class out of the softmax (the others keep their relative odds). An FAQ of
    one entry has nothing left to rank."""
    rows = np.flatnonzero(np.array([bool(g) for g in gold], dtype=bool))
    if len(rows) == 0 or len(entries) < 2:
        return None
    where = {c: i for i, c in enumerate(clf.entry_ids)}
    own = np.searchsorted(entries, [gold[r] for r in rows])
    own_class = np.array([where[gold[r]] for r in rows])
    at = np.arange(len(rows))
    q_sim, c_sim, lg = question_sim[rows].copy(), chunk_sim[rows].copy(), logits[rows].copy()
    q_sim[at, own] = -np.inf
    c_sim[at, own] = -np.inf
    lg[at, own_class] = -np.inf
    probs = softmax(lg)[:, [where[e] for e in entries]]
    score = fused_scores(q_sim, c_sim, probs, np.zeros_like(probs), settings)
    top, best_cos, margin = _ranked(score, q_sim, c_sim)
    n = len(rows)
    return _Part(
        clf.entry_ids,
        lg,
        [0] * n,  # unused: absent rows do not fit the temperature
        [""] * n,
        [entries[i] for i in top],
        [where[entries[i]] for i in top],
        best_cos.tolist(),
        margin.tolist(),
        ["absent"] * n,
    )


def _top_two(score: npt.NDArray[np.floating]) -> npt.NDArray[np.intp]:
    """Per row, the best and second-best columns (a full sort costs seconds on large FAQs)."""
    if score.shape[1] < 2:
        return np.zeros((score.shape[0], 1), dtype=np.intp)
    two = np.argpartition(-score, 1, axis=1)[:, :2]
    swap = score[np.arange(len(score)), two[:, 1]] > score[np.arange(len(score)), two[:, 0]]
    two[swap] = two[swap][:, ::-1]
    return two


def _best_per_entry(
    sims: npt.NDArray[np.floating], owner: npt.NDArray[np.intp], mask: npt.NDArray[np.bool_], n: int
) -> npt.NDArray[np.floating]:
    out = np.full((sims.shape[0], n), -np.inf)
    sub_owner = owner[mask]
    if len(sub_owner) == 0:
        return out
    order = np.argsort(sub_owner, kind="stable")
    sorted_owner = sub_owner[order]
    starts = np.flatnonzero(np.r_[True, sorted_owner[1:] != sorted_owner[:-1]])
    out[:, sorted_owner[starts]] = np.maximum.reduceat(sims[:, mask][:, order], starts, axis=1)
    return out


def best_temperature(logits: npt.NDArray[np.floating], target: npt.NDArray[np.intp]) -> float:
    """Temperature minimising the held-out negative log-likelihood (a 1-D search)."""
    if len(target) == 0:
        return 1.0
    from scipy.optimize import minimize_scalar

    rows = np.arange(len(target))

    def nll(log_t: float) -> float:
        p = softmax(logits / np.exp(log_t))
        return float(-np.log(p[rows, target] + 1e-12).mean())

    result = minimize_scalar(nll, bounds=(-4.0, 2.0), method="bounded")
    return float(np.exp(result.x))
