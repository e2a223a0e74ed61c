"""What serving other languages costs: query latency (English and other languages, the
language detection included, as the service runs it) and ingest time of our FAQ, with
and without the multilingual encoder; and language detection accuracy on the labelled
sets.

    .venv/bin/python -m bench.multilingual
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.report import machine_description, table, write_section
from ingest.pipeline import IngestPipeline
from service.config import Settings
from service.retrieval.components import build_backend, build_detector, build_embedder
from service.retrieval.crosslingual import UseEmbedder
from service.retrieval.embedder import Embedder
from service.retrieval.language import LANGUAGES, LanguageDetector, choose_language
from service.retrieval.retriever import Retriever
from service.retrieval.store import IndexStore
from service.server import limit_blas_threads

ROOT = Path(__file__).resolve().parents[1]
FAQ = ROOT / "data" / "faq"
ENGLISH = ROOT / "data" / "eval" / "questions.jsonl"
OTHERS = ROOT / "data" / "eval" / "multilingual.jsonl"
ROUNDS = 5  # each query set is timed this many times


def ingest(settings: Settings, embedder: Embedder, multilingual: Embedder | None) -> float:
    """Seconds for a full ingest of our FAQ into a fresh index."""
    with tempfile.TemporaryDirectory() as tmp:
        s = settings.model_copy(
            update={"index": settings.index.model_copy(update={"path": Path(tmp)})}
        )
        pipeline = IngestPipeline(
            s,
            embedder,
            build_backend(s, embedder),
            IndexStore(Path(tmp)),
            log=lambda _: None,
            multilingual=multilingual,
        )
        started = time.perf_counter()
        pipeline.run([FAQ])
        return time.perf_counter() - started


def timed(
    retriever: Retriever, detector: LanguageDetector | None, queries: list[str]
) -> list[float]:
    """Milliseconds per query: detection (when given) and retrieval, as one turn does."""
    out = []
    for _ in range(ROUNDS):
        for q in queries:
            started = time.perf_counter()
            lang = "en"
            if detector is not None:
                lang = choose_language(detector.detect(q), None, None, retriever.languages)
            retriever.search(q, lang=lang)
            out.append((time.perf_counter() - started) * 1000)
    return out


def detection_accuracy(detector: LanguageDetector, rows: list[dict[str, str]]) -> float:
    hits = [
        choose_language(detector.detect(r["query"]), None, None, LANGUAGES) == r.get("lang", "en")
        for r in rows
    ]
    return float(np.mean(hits))


def main() -> None:
    limit_blas_threads()  # as `faqbot serve` runs
    settings = Settings()
    embedder = build_embedder(settings)
    started = time.perf_counter()
    encoder = UseEmbedder()
    encoder.embed(["load"])
    encoder_load = time.perf_counter() - started
    started = time.perf_counter()
    detector = build_detector(settings)
    assert detector is not None, "lingua-language-detector is not installed"
    detector.detect("warm up")
    detector_load = time.perf_counter() - started
    english = [json.loads(line) for line in ENGLISH.read_text().splitlines() if line.strip()]
    others = [json.loads(line) for line in OTHERS.read_text().splitlines() if line.strip()]

    ingest(settings, embedder, None)  # warm: model loads and ONNX export are not ingest
    plain = [ingest(settings, embedder, None) for _ in range(2)]
    multi = [ingest(settings, embedder, encoder) for _ in range(2)]

    with tempfile.TemporaryDirectory() as tmp:
        s = settings.model_copy(
            update={"index": settings.index.model_copy(update={"path": Path(tmp)})}
        )
        store = IndexStore(Path(tmp))
        backend = build_backend(s, embedder)
        IngestPipeline(s, embedder, backend, store, log=lambda _: None, multilingual=encoder).run(
            [FAQ]
        )
        with_languages = Retriever.open(store, backend, embedder, s.retrieval, multilingual=encoder)
        english_only = Retriever.open(store, backend, embedder, s.retrieval)
        en_queries = [r["query"] for r in english]
        other_queries = [r["query"] for r in others]
        timed(english_only, None, en_queries[:20])  # warm
        timed(with_languages, detector, other_queries[:20])
        before = timed(english_only, None, en_queries)
        after = timed(with_languages, detector, en_queries)
        foreign = timed(with_languages, detector, other_queries)

    def pct(xs: list[float]) -> str:
        return f"{np.percentile(xs, 50):.1f} / {np.percentile(xs, 95):.1f} ms"

    rows = {
        "English questions, English path only (before)": pct(before),
        "English questions, detection + English path (now)": pct(after),
        "other languages, detection + cross-lingual path": pct(foreign),
        "p95 change for English questions": (
            f"{np.percentile(after, 95) - np.percentile(before, 95):+.1f} ms"
        ),
        "ingest of data/faq without / with the encoder": (
            f"{min(plain):.1f} s / {min(multi):.1f} s ({min(multi) - min(plain):+.1f} s)"
        ),
        "loading, once per process: encoder / detector": (
            f"{encoder_load:.2f} s / {detector_load:.2f} s"
        ),
        "detection right, English questions (165)": f"{detection_accuracy(detector, english):.3f}",
        "detection right, other languages (150)": f"{detection_accuracy(detector, others):.3f}",
    }
    body = (
        f"{machine_description()}. Our FAQ (64 entries, German translations of four "
        f"categories), {ROUNDS} rounds of each query set; p50 / p95 per question, language "
        "detection (lingua, six languages) included where the service runs it; BLAS "
        "limited to one thread as `faqbot serve` does. Ingest: the best of two full "
        "ingests each.\n\n" + table(rows)
    )
    write_section("Customers' languages (bench/multilingual.py)", body)


if __name__ == "__main__":
    main()
