"""Build the cross-lingual index of a version (service/retrieval/crosslingual.py) from the
entries, their translations and the decline examples in every language, and calibrate
it on the translations and the other languages' decline examples."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ingest.crosslingual_choice import (
    MIN_HELD_OUT,
    PARAPHRASE_COSINE,
    HeldOut,
    choose_answer_weight,
    choose_suggest_margin,
    choose_threshold,
)
from service.retrieval.classifier import PhrasingClassifier, with_declines
from service.retrieval.crosslingual import (
    CrossLingualIndex,
    Rows,
    classifier_columns,
    entry_probabilities,
    group_rows,
)
from service.retrieval.embedder import Embedder, ProgressCallback
from service.retrieval.schema import FaqEntry

CLASSIFIER_FOLDS = 3
# Its fits grow with texts x entries: 0.3-0.6 s each for our FAQ's 529 x 65, 6.6 s for
# CLINC150's 15,000 x 151 on this VM. Above this budget the cosine ranking alone serves
# other languages, so that ingest stays quick for editors.
CLASSIFIER_MAX_CELLS = 1_000_000


def languages_hash(
    translations: Mapping[str, Sequence[FaqEntry]],
    foreign_declines: Mapping[str, Sequence[str]],
    model_id: str,
    classifier_weight: float,
) -> str:
    """Changes when a translation, another language's decline list, the encoder or the
    classifier's weight does: then a new version is published, even if no English entry
    changed."""
    payload = json.dumps(
        [
            model_id,
            classifier_weight,
            {lang: sorted(e.content_hash() for e in ts) for lang, ts in translations.items()},
            {lang: list(qs) for lang, qs in foreign_declines.items()},
        ],
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _unique(texts: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(t for t in texts if t.strip()))


def _question_texts(entry: FaqEntry) -> list[str]:
    return _unique([entry.question, entry.title or entry.question, *entry.questions])


def build(
    entries: Sequence[FaqEntry],
    translations: Mapping[str, Sequence[FaqEntry]],
    declines: Sequence[str],
    foreign_declines: Mapping[str, Sequence[str]],
    encoder: Embedder,
    target_oos_recall: float,
    progress: ProgressCallback | None = None,
    known: Mapping[str, np.ndarray] | None = None,
    classifier_weight: float = 0.0,
) -> tuple[CrossLingualIndex, dict[str, np.ndarray]]:
    """The index, and every text's vector (for the next build, which embeds only the
    texts ``known`` lacks: an edited entry re-embeds its own few texts). With a
    ``classifier_weight``, the classifier is fitted too (within CLASSIFIER_MAX_CELLS)."""
    english_q = [_question_texts(e) for e in entries]
    english_a = [[f"{e.question} {e.answer}"] for e in entries]
    foreign_q, foreign_a = _translated_texts(entries, translations)
    foreign_d = [q for lang in sorted(foreign_declines) for q in foreign_declines[lang]]
    texts = [t for group in (*english_q, *english_a, *foreign_q, *foreign_a) for t in group]
    wanted = [*texts, *declines, *foreign_d]
    lookup = _embed_new(wanted, encoder, known or {}, progress)
    vectors = np.vstack([lookup[t] for t in wanted]).astype(np.float32)
    parts = _split(vectors, [english_q, english_a, foreign_q, foreign_a])
    decline_vectors = vectors[len(texts) :]
    english = (group_rows(english_q, parts[0]), group_rows(english_a, parts[1]))
    both = (
        _merge(english_q, parts[0], foreign_q, parts[2]),
        _merge(english_a, parts[1], foreign_a, parts[3]),
    )
    positions = np.array([i for i, group in enumerate(foreign_q) for _ in group], dtype=np.int64)
    foreign_decline_vectors = decline_vectors[len(declines) :]
    held = HeldOut(
        questions=parts[2],
        positions=positions,
        declines=foreign_decline_vectors if len(foreign_d) else decline_vectors,
    )
    kept = decline_vectors[: len(declines)] if len(foreign_d) else decline_vectors[:0]
    material = _Texts([e.id for e in entries], english, both, decline_vectors, kept)
    return _calibrated(material, held, classifier_weight, target_oos_recall), lookup


@dataclass(frozen=True)
class _Texts:
    """A build's vectors: per entry the English rows and the rows in every language,
    all decline examples, and those the classifier may learn from during calibration
    (never the held-out ones)."""

    ids: list[str]
    english: tuple[Rows, Rows]
    both: tuple[Rows, Rows]
    declines: np.ndarray
    kept_declines: np.ndarray


def _calibrated(
    texts: _Texts, held: HeldOut, classifier_weight: float, target_oos_recall: float
) -> CrossLingualIndex:
    """The index with its weight, classifier, threshold and "did you mean" lead, each
    chosen on held-out material."""
    weight, weight_how = choose_answer_weight(texts.english, held)
    classifier = None
    rows = len(texts.both[0].vectors) + len(texts.both[1].vectors) + len(texts.declines)
    if classifier_weight > 0 and rows * len(texts.ids) <= CLASSIFIER_MAX_CELLS:
        held, classifier = _classifier(texts, held)
    index = CrossLingualIndex(
        texts.ids,
        texts.both[0],
        texts.both[1],
        texts.declines,
        weight,
        0.0,
        classifier=classifier,
        classifier_weight=classifier_weight if classifier is not None else 0.0,
    )
    threshold, threshold_how = choose_threshold(index, held, target_oos_recall)
    return replace(
        index,
        threshold=threshold,
        method=f"{weight_how}; {threshold_how}",
        suggest_margin=choose_suggest_margin(index, held),
    )


def _classifier(texts: _Texts, held: HeldOut) -> tuple[HeldOut, PhrasingClassifier]:
    """The classifier over every text (translations and all decline examples included),
    and the held-out probabilities the thresholds are calibrated with, as the held-out
    cosines are: each translated question's from a fold's classifier fitted on the English
    texts minus those it translates or paraphrases, each held-out decline example's from
    a classifier that never saw it."""
    entry_ids = texts.ids
    vectors, labels = _labelled(texts.english, entry_ids)
    question_probs: npt.NDArray[np.float32] | None = None
    clf: PhrasingClassifier | None = None
    if len(held.positions) >= MIN_HELD_OUT:
        fold = np.random.default_rng(0).permutation(len(held.questions)) % CLASSIFIER_FOLDS
        question_probs = np.zeros((len(held.questions), len(entry_ids)), dtype=np.float32)
        for k in range(CLASSIFIER_FOLDS):
            part = held.questions[fold == k]
            keep = ~((vectors @ part.T) >= PARAPHRASE_COSINE).any(axis=1)
            clf = PhrasingClassifier.fit(
                *with_declines(vectors[keep], labels[keep].tolist(), texts.kept_declines),
                start_from=clf,
            )
            question_probs[fold == k] = entry_probabilities(
                clf, part, classifier_columns(clf, entry_ids)
            )
    else:
        clf = PhrasingClassifier.fit(*with_declines(vectors, labels.tolist(), texts.kept_declines))
    decline_probs = entry_probabilities(clf, held.declines, classifier_columns(clf, entry_ids))
    every, every_label = _labelled(texts.both, entry_ids)
    final = PhrasingClassifier.fit(
        *with_declines(every, every_label.tolist(), texts.declines), start_from=clf
    )
    return replace(held, question_probs=question_probs, decline_probs=decline_probs), final


def _labelled(rows: tuple[Rows, Rows], entry_ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Every vector of both groups of rows, labelled with its entry's id."""
    labels = [
        np.repeat(np.array(entry_ids), np.diff(np.append(r.starts, len(r.vectors)))) for r in rows
    ]
    return np.vstack([rows[0].vectors, rows[1].vectors]), np.concatenate(labels)


def _translated_texts(
    entries: Sequence[FaqEntry], translations: Mapping[str, Sequence[FaqEntry]]
) -> tuple[list[list[str]], list[list[str]]]:
    """Per entry: its translations' question-like texts, and their "question answer"."""
    by_lang = {lang: {e.id: e for e in ts} for lang, ts in translations.items()}
    questions: list[list[str]] = []
    answers: list[list[str]] = []
    for e in entries:
        versions = [by_lang[lang][e.id] for lang in sorted(by_lang) if e.id in by_lang[lang]]
        questions.append([t for v in versions for t in _question_texts(v)])
        answers.append([f"{v.question} {v.answer}" for v in versions])
    return questions, answers


def _embed_new(
    wanted: Sequence[str],
    encoder: Embedder,
    known: Mapping[str, np.ndarray],
    progress: ProgressCallback | None,
) -> dict[str, np.ndarray]:
    """Every wanted text's vector: the known ones kept, only the others embedded."""
    keep = set(wanted)
    lookup = {t: v for t, v in known.items() if t in keep}
    missing = [t for t in dict.fromkeys(wanted) if t not in lookup]
    if missing:
        lookup.update(zip(missing, encoder.embed(missing, progress=progress), strict=True))
    return lookup


def save_vectors(path: Path, model_id: str, vectors: Mapping[str, np.ndarray]) -> None:
    texts = list(vectors)
    matrix = np.vstack([vectors[t] for t in texts]) if texts else np.zeros((0, 0))
    with path.open("wb") as f:
        np.savez(f, model=np.array(model_id), texts=np.array(texts), vectors=matrix)


def load_vectors(path: Path, model_id: str) -> dict[str, np.ndarray]:
    """A version's text vectors if made by this encoder, else none."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["model"]) != model_id:
                return {}
            return dict(zip((str(t) for t in z["texts"]), z["vectors"], strict=True))
    except (OSError, KeyError, ValueError):
        return {}


def _split(vectors: np.ndarray, groups: Sequence[Sequence[Sequence[str]]]) -> list[np.ndarray]:
    out, start = [], 0
    for group in groups:
        n = sum(len(g) for g in group)
        out.append(vectors[start : start + n])
        start += n
    return out


def _merge(
    first: Sequence[Sequence[str]],
    first_vectors: np.ndarray,
    second: Sequence[Sequence[str]],
    second_vectors: np.ndarray,
) -> Rows:
    """Rows with each entry's texts from both groups together."""
    a_starts = np.concatenate([[0], np.cumsum([len(g) for g in first])]).astype(np.int64)
    b_starts = np.concatenate([[0], np.cumsum([len(g) for g in second])]).astype(np.int64)
    pieces, groups = [], []
    for i in range(len(first)):
        pieces.append(first_vectors[a_starts[i] : a_starts[i + 1]])
        pieces.append(second_vectors[b_starts[i] : b_starts[i + 1]])
        groups.append([*first[i], *second[i]])
    return group_rows(groups, np.vstack(pieces).astype(np.float32))
