"""The console's two heavy steps at the sizes issue 14 names: clustering 10,000 logged
questions for the gap inbox, and replaying 5,000 questions against two index versions.

Questions are our labelled customer questions and the FAQ's phrasings with seeded
variations (greetings, fillers, typos), so that many are near-duplicates, as logs are.

    .venv/bin/python -m bench.console
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.report import machine_description, table, write_section
from ingest.pipeline import IngestPipeline
from ingest.replay import replay
from service.admin.inbox import Gap, cluster_gaps
from service.config import Settings
from service.retrieval.components import (
    build_backend,
    build_detector,
    build_embedder,
    build_multilingual,
)
from service.retrieval.retriever import Retriever
from service.retrieval.store import IndexStore
from service.server import limit_blas_threads
from service.sources.parse import parse_sources

ROOT = Path(__file__).resolve().parents[1]
FAQ = ROOT / "data" / "faq"
PREFIXES = ["", "hi, ", "hello ", "quick question: ", "sorry, ", "um ", "hey there, "]
SUFFIXES = ["", "?", " please", " thanks", "??", " asap", " :)"]


def questions(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    base = [json.loads(line)["query"] for line in (ROOT / "data/eval/questions.jsonl").open()]
    base += [q for e in parse_sources([FAQ]).entries for q in e.questions]
    out = []
    for _ in range(n):
        q = rng.choice(base)
        if rng.random() < 0.2 and len(q) > 8:  # a typo
            i = rng.randrange(len(q) - 1)
            q = q[:i] + q[i + 1] + q[i] + q[i + 2 :]
        out.append(f"{rng.choice(PREFIXES)}{q}{rng.choice(SUFFIXES)}")
    return out


def main() -> None:
    limit_blas_threads()
    settings = Settings()
    embedder = build_embedder(settings)
    embedder.embed(["warm up"])
    logged = questions(10_000)
    now = datetime.now(UTC)
    gaps = [Gap(f"m{i}", q, "abstained", now) for i, q in enumerate(logged)]

    started = time.perf_counter()
    vectors = embedder.embed(list(dict.fromkeys(logged)))
    embedded = time.perf_counter() - started
    started = time.perf_counter()
    clusters = cluster_gaps(gaps, lambda texts: vectors, settings.admin.cluster_distance)
    clustered = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as tmp:
        s = settings.model_copy(
            update={"index": settings.index.model_copy(update={"path": Path(tmp)})}
        )
        store, backend = IndexStore(Path(tmp)), build_backend(s, embedder)
        multilingual = build_multilingual(s)
        pipeline = IngestPipeline(
            s, embedder, backend, store, log=lambda _: None, multilingual=multilingual
        )
        pipeline.run([FAQ])
        live = Retriever.open(store, backend, embedder, s.retrieval, multilingual=multilingual)
        candidate = Retriever.open(store, backend, embedder, s.retrieval, multilingual=multilingual)
        replayed_questions = questions(5_000, seed=11)
        detector = build_detector(s)
        started = time.perf_counter()
        report = replay(live, candidate, replayed_questions, detector)
        replayed = time.perf_counter() - started

    distinct = len(set(logged))
    rows = {
        "gap inbox, 10,000 logged questions": f"{distinct:,} distinct, {len(clusters):,} clusters",
        "embedding them (once; retrieval's model)": f"{embedded:.1f} s",
        "clustering them (agglomerative, kNN graph)": f"{clustered:.1f} s",
        "replay, 5,000 questions, two versions": (
            f"{replayed:.1f} s ({report.questions:,} distinct, {len(report.changes)} changes)"
        ),
    }
    body = (
        f"{machine_description()}. Questions: our labelled ones and the FAQ's phrasings with "
        "seeded greetings, fillers and typos. Replay: the same version twice, so every "
        "question is answered by both and nothing changes; the cost is the answering.\n\n"
        + table(rows)
    )
    write_section("Console: gap inbox and replay (bench/console.py)", body)


if __name__ == "__main__":
    main()
