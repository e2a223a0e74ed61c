"""`faqbot eval`: ingest a FAQ file into a throwaway index and score labelled queries."""

from __future__ import annotations

import contextlib
import csv
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ingest.pipeline import IngestPipeline, ProgressFactory
from service.config import Settings
from service.retrieval.calibration import Calibration
from service.retrieval.components import (
    build_backend,
    build_detector,
    build_embedder,
    build_multilingual,
)
from service.retrieval.embedder import Embedder
from service.retrieval.evaluation import (
    Metrics,
    SuggestionStats,
    by_language,
    load_queries,
    misses,
    run_queries,
    suggestion_stats,
    summarize,
    sweep,
)
from service.retrieval.retriever import Retriever
from service.retrieval.store import IndexStore

SWEEP_THRESHOLDS = [round(float(t), 3) for t in np.arange(0.0, 1.0001, 0.01)]


@dataclass
class EvalResult:
    metrics: Metrics
    sweep: list[dict[str, float]]
    sweep_csv: Path
    sweep_png: Path | None
    suggestions: SuggestionStats
    suggestion_csv: Path
    misses: list[dict[str, Any]]
    misses_path: Path
    calibration: Calibration
    by_language: dict[str, Metrics] = field(default_factory=dict)
    crosslingual: str = ""  # the cross-lingual calibration, when the index has one


@contextlib.contextmanager
def temporary_index(
    faqs: Path,
    settings: Settings,
    embedder: Embedder,
    progress: ProgressFactory | None = None,
    log: Callable[[str], None] = print,
    declines: Path | None = None,
) -> Iterator[Retriever]:
    """The FAQ (and any decline examples) ingested into a throwaway embedded index:
    evaluation never touches the live one."""
    with tempfile.TemporaryDirectory(prefix="faqbot-eval-") as tmp:
        sources = [faqs]
        if declines is not None:
            # Ingest knows decline files by their name; the user's file may be named freely.
            sources.append(Path(tmp) / f"decline_examples{declines.suffix}")
            shutil.copyfile(declines, sources[-1])
        index_settings = settings.index.model_copy(
            update={"path": Path(tmp) / "index", "host": None}
        )
        # An evaluation set is not the shop's FAQ: no order policy to read from it.
        orders = settings.orders.model_copy(update={"returns_window_entry": None})
        eval_settings = settings.model_copy(update={"index": index_settings, "orders": orders})
        store = IndexStore(Path(tmp) / "index")
        backend = build_backend(eval_settings, embedder)
        multilingual = build_multilingual(settings)
        IngestPipeline(eval_settings, embedder, backend, store, progress, log, multilingual).run(
            sources
        )
        yield Retriever.open(
            store,
            backend,
            embedder,
            settings.retrieval,
            multilingual=multilingual,
            crosslingual_threshold=settings.languages.abstain_threshold,
        )


def evaluate_files(
    faqs: Path,
    queries_path: Path,
    settings: Settings,
    out_dir: Path,
    *,
    embedder: Embedder | None = None,
    progress: ProgressFactory | None = None,
    log: Callable[[str], None] = print,
    declines: Path | None = None,
) -> EvalResult:
    embedder = embedder or build_embedder(settings)
    with temporary_index(faqs, settings, embedder, progress, log, declines) as retriever:
        queries = load_queries(queries_path, known_ids=set(retriever.manifest.entries))
        outcomes = run_queries(retriever, queries, build_detector(settings))
        threshold = retriever.abstain_threshold
        calibration = retriever.calibration
        crosslingual = retriever.crosslingual_description
    metrics = summarize(outcomes, threshold)
    rows = sweep(outcomes, SWEEP_THRESHOLDS)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = _write_csv(out_dir / "threshold_sweep.csv", rows)
    png_path = _plot(rows, metrics, out_dir / "threshold_sweep.png", title=queries_path.parent.name)
    floors = [f for f in SWEEP_THRESHOLDS if f <= threshold]
    stats = [asdict(suggestion_stats(outcomes, threshold, f)) for f in floors]
    suggestion_csv = _write_csv(out_dir / "suggestion_sweep.csv", stats)
    chosen = suggestion_stats(outcomes, threshold, settings.chat.suggestion_floor)
    wrong = misses(outcomes, threshold)
    misses_path = out_dir / "misses.jsonl"
    misses_path.write_text(
        "".join(json.dumps(m, ensure_ascii=False) + "\n" for m in wrong), encoding="utf-8"
    )
    return EvalResult(
        metrics,
        rows,
        csv_path,
        png_path,
        chosen,
        suggestion_csv,
        wrong,
        misses_path,
        calibration,
        by_language(outcomes, threshold),
        crosslingual,
    )


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _plot(rows: list[dict[str, float]], metrics: Metrics, path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    import matplotlib.pyplot as plt

    t = [r["threshold"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    ax.plot(
        t, [r["in_scope_accuracy"] for r in rows], label="in-scope accuracy (right and answered)"
    )
    if metrics.n_out_of_scope:
        ax.plot(t, [r["oos_recall"] for r in rows], label="out-of-scope recall (declined)")
    ax.plot(t, [r["abstention_accuracy"] for r in rows], label="all queries handled right", ls="--")
    ax.axvline(
        metrics.threshold,
        color="grey",
        ls=":",
        label=f"configured threshold {metrics.threshold:.2f}",
    )
    ax.set_xlabel("abstain threshold (confidence below it: decline)")
    ax.set_ylabel("share of queries")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, 1)
    ax.grid(alpha=0.3)
    ax.set_title(f"faqbot eval: {title} ({metrics.n_queries} queries)")
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
