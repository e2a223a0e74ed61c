"""Out-of-scope signals, calibrated without peeking (research for issue 11).

Procedure: hold out a tenth of every entry's phrasings, ingest the rest, and use the
held-out phrasings (in scope) and half of the decline examples (out of scope) as the
calibration set; the other half of the decline examples trains a reject class. Each
signal's threshold is the one that maximises balanced accuracy on the calibration set.
Only then are the dev queries scored, at that threshold, on the full index. The dev
half's out-of-scope queries are never used to choose anything.

Run: .venv/bin/python bench/oos_signals.py [--set ../shared/eval/clinc150]
Prints the figures and rewrites its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import machine_description, table, write_section  # noqa: E402
from ingest.evaluate import temporary_index  # noqa: E402
from service.config import Settings  # noqa: E402
from service.retrieval.components import build_embedder  # noqa: E402
from service.retrieval.retriever import Retriever  # noqa: E402


@dataclass(frozen=True)
class Row:
    gold: str | None
    top: str
    signals: dict[str, float]


def read_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def reject_model(retriever: Retriever, declines: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """P(reject | query) from a logistic regression over the index's own vectors (one
    class per entry) plus a reject class of decline examples."""
    from sklearn.linear_model import LogisticRegression

    stored = retriever._vectors.get_all()  # noqa: SLF001 - research script
    labels = [rid.split("::")[0] for rid in stored.ids] + ["__reject__"] * len(declines)
    x = np.vstack([stored.embeddings, declines])
    model = LogisticRegression(C=10.0, max_iter=300).fit(x, labels)
    col = list(model.classes_).index("__reject__")
    return lambda q: model.predict_proba(q)[:, col]


class Mahalanobis:
    """Distance to the nearest entry's mean under one shared covariance (Lee et al. 2018,
    "A simple unified framework for detecting out-of-distribution samples"), fitted on
    the index's own vectors with Ledoit-Wolf shrinkage: 384 dimensions, few vectors."""

    def __init__(self, retriever: Retriever) -> None:
        from sklearn.covariance import LedoitWolf

        stored = retriever._vectors.get_all()  # noqa: SLF001 - research script
        labels = np.array([rid.split("::")[0] for rid in stored.ids])
        x = np.asarray(stored.embeddings, dtype=np.float64)
        classes = sorted(set(labels.tolist()))
        self.means = np.stack([x[labels == c].mean(axis=0) for c in classes])
        centred = x - self.means[np.searchsorted(classes, labels)]
        self.precision = LedoitWolf().fit(centred).precision_

    def __call__(self, q: np.ndarray) -> np.ndarray:
        # (q - m)' P (q - m), expanded so that no queries x entries x dims array is built
        qp = q @ self.precision
        mp = self.means @ self.precision
        d = (qp * q).sum(axis=1)[:, None] - 2 * qp @ self.means.T + (mp * self.means).sum(axis=1)
        return -d.min(axis=1)  # type: ignore[no-any-return]


def score(
    retriever: Retriever,
    queries: Sequence[tuple[str, str | None]],
    reject: Callable[[np.ndarray], np.ndarray],
) -> list[Row]:
    vectors = retriever.embed_queries([q for q, _ in queries])
    p_reject = reject(vectors)
    mahalanobis = Mahalanobis(retriever)(vectors)
    clf = retriever._classifier  # noqa: SLF001 - research script
    logits = clf.logits(vectors)
    energy = np.log(np.exp(logits - logits.max(axis=1, keepdims=True)).sum(axis=1)) + logits.max(
        axis=1
    )
    rows = []
    for i, ((q, gold), vec, pr) in enumerate(zip(queries, vectors, p_reject, strict=True)):
        r = retriever.search_embedded(q, vec)
        top = r.hits[0]
        second = r.hits[1].score if len(r.hits) > 1 else 0.0
        cos = max(top.question_similarity, top.chunk_similarity)
        tops = [
            max(r.hits, key=lambda h: h.question_similarity).entry_id,
            max(r.hits, key=lambda h: h.classifier).entry_id,
            max(r.hits, key=lambda h: h.lexical).entry_id,
        ]
        agree = sum(t == top.entry_id for t in tops) / len(tops)
        rows.append(
            Row(
                gold,
                top.entry_id,
                {
                    "current (sqrt P x cos)": r.confidence,
                    "best cosine": cos,
                    "score margin": top.score - second,
                    "current x (1 - P reject)": r.confidence * (1.0 - float(pr)),
                    "energy (logsumexp of logits)": float(energy[i]),
                    "Mahalanobis (tied covariance)": float(mahalanobis[i]),
                    "current x rankings agreeing": r.confidence * agree,
                },
            )
        )
    return rows


def balanced_threshold(rows: list[Row], signal: str) -> float:
    best, best_t = -1.0, 0.0
    values = np.array([r.signals[signal] for r in rows])
    # candidate thresholds from the signal's own range: some signals are not in 0..1
    for t in np.unique(np.quantile(values, np.linspace(0, 1, 401))):
        ins = [r for r in rows if r.gold is not None]
        oos = [r for r in rows if r.gold is None]
        acc_in = np.mean([r.signals[signal] >= t and r.top == r.gold for r in ins])
        acc_oos = np.mean([r.signals[signal] < t for r in oos])
        if (acc_in + acc_oos) / 2 > best:
            best, best_t = (acc_in + acc_oos) / 2, float(t)
    return best_t


def measure(rows: list[Row], signal: str, t: float) -> tuple[float, float]:
    ins = [r for r in rows if r.gold is not None]
    oos = [r for r in rows if r.gold is None]
    return (
        float(np.mean([r.signals[signal] >= t and r.top == r.gold for r in ins])),
        float(np.mean([r.signals[signal] < t for r in oos])),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", default=str(ROOT.parent / "shared/eval/clinc150"))
    args = parser.parse_args()
    folder = Path(args.set)
    faqs = read_jsonl(folder / "faqs.jsonl")
    dev = [(str(q["query"]), q["faq_id"]) for q in read_jsonl(folder / "queries.jsonl")]
    declines = [str(d["query"]) for d in read_jsonl(folder / "decline_examples.jsonl")]
    rng = random.Random(0)
    rng.shuffle(declines)
    train_declines, calib_declines = declines[::2], declines[1::2]
    settings = Settings()
    embedder = build_embedder(settings)
    decline_vectors = embedder.embed(train_declines)

    # 1. Calibration on held-out phrasings and held-out decline examples.
    held: list[tuple[str, str | None]] = []
    reduced = []
    for f in faqs:
        phrasings = list(f.get("questions", []))  # type: ignore[arg-type]
        k = len(phrasings) // 10
        held += [(p, str(f["id"])) for p in phrasings[:k]]
        reduced.append({**f, "questions": phrasings[k:]})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "reduced.jsonl"
        path.write_text("".join(json.dumps(f) + "\n" for f in reduced))
        with temporary_index(path, settings, embedder, log=lambda _: None) as retriever:
            calib = score(
                retriever,
                [*held, *[(d, None) for d in calib_declines]],
                reject_model(retriever, decline_vectors),
            )
    signals = list(calib[0].signals)
    thresholds = {s: balanced_threshold(calib, s) for s in signals}

    # 2. Measurement on the dev queries, full index, thresholds fixed above.
    with temporary_index(folder / "faqs.jsonl", settings, embedder, log=lambda _: None) as r:
        rows = score(r, dev, reject_model(r, decline_vectors))
    results = {}
    for s in signals:
        ins, oos = measure(rows, s, thresholds[s])
        results[s] = (
            f"threshold {thresholds[s]:.4g} (from the calibration set): "
            f"in-scope accuracy {ins:.3f}, out-of-scope recall {oos:.3f}"
        )
    write_section(
        f"Out-of-scope signals on {folder.name} (bench/oos_signals.py)",
        f"{machine_description()}, Python {platform.python_version()}; {len(held)} "
        f"held-out phrasings and {len(calib_declines)} held-out decline examples choose "
        f"each threshold, {len(train_declines)} decline examples train the reject class; "
        f"measured on {len(dev)} dev queries\n\n{table(results)}",
    )


if __name__ == "__main__":
    main()
