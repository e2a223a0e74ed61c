"""Build the cross-lingual index of a version (service/retrieval/crosslingual.py) from the
entries, their translations and the decline examples in every language, and calibrate
it on the translations and the other languages' decline examples."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from service.retrieval.crosslingual import (
    CrossLingualIndex,
    HeldOut,
    Rows,
    choose_answer_weight,
    choose_suggest_margin,
    choose_threshold,
    group_rows,
)
from service.retrieval.embedder import Embedder, ProgressCallback
from service.retrieval.schema import FaqEntry


def languages_hash(
    translations: Mapping[str, Sequence[FaqEntry]],
    foreign_declines: Mapping[str, Sequence[str]],
    model_id: str,
) -> str:
    """Changes when a translation, another language's decline list or the encoder does:
    then a new version is published, even if no English entry changed."""
    payload = json.dumps(
        [
            model_id,
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
) -> tuple[CrossLingualIndex, dict[str, np.ndarray]]:
    """The index, and every text's vector (for the next build, which embeds only the
    texts ``known`` lacks: an edited entry re-embeds its own few texts)."""
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
    weight, weight_how = choose_answer_weight(english, held)
    index = CrossLingualIndex(
        [e.id for e in entries], both[0], both[1], decline_vectors, weight, 0.0
    )
    threshold, threshold_how = choose_threshold(index, held, target_oos_recall)
    built = CrossLingualIndex(
        index.entry_ids,
        index.questions,
        index.answers,
        index.declines,
        weight,
        threshold,
        f"{weight_how}; {threshold_how}",
        choose_suggest_margin(index, held),
    )
    return built, lookup


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
