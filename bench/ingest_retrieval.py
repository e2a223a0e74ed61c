"""Ingest and retrieval benchmark: 1,000 entries, full ingest, no-op re-run, query latency.

Run: .venv/bin/python bench/ingest_retrieval.py   (or `make bench`)
Prints the numbers and rewrites its section of docs/benchmarks.md.
"""

from __future__ import annotations

import json
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import machine_description, write_section  # noqa: E402
from ingest.pipeline import IngestPipeline  # noqa: E402
from service.config import Settings  # noqa: E402
from service.retrieval.crosslingual import UseEmbedder  # noqa: E402
from service.retrieval.embedder import Embedder, make_embedder  # noqa: E402
from service.retrieval.retriever import Retriever  # noqa: E402
from service.retrieval.store import IndexStore  # noqa: E402
from service.retrieval.vector_index import make_vector_backend  # noqa: E402

N_ENTRIES = 1000
N_QUERIES = 400

PRODUCTS = [
    "rain jacket",
    "down jacket",
    "fleece",
    "hiking boots",
    "backpack",
    "tent",
    "sleeping bag",
    "trail shoes",
    "merino base layer",
    "softshell trousers",
    "gloves",
    "beanie",
    "trekking poles",
    "headlamp",
    "water bottle",
    "gaiters",
    "insulated vest",
    "ski jacket",
    "rain trousers",
    "duffel bag",
]
TOPICS = [
    (
        "return",
        "How do I return the {p}?",
        ["send back my {p}", "can I return a {p}", "return policy for the {p}"],
        "Returns of the {p} are accepted within {d} days.",
    ),
    (
        "size",
        "What size {p} should I choose?",
        ["{p} size chart", "does the {p} run small", "which size of {p} fits me"],
        "The {p} follows EU sizing; see the chart, {d} cm steps.",
    ),
    (
        "wash",
        "How do I wash the {p}?",
        ["cleaning my {p}", "can the {p} go in the machine", "care instructions for the {p}"],
        "Wash the {p} at {d} degrees with a technical wash.",
    ),
    (
        "warranty",
        "What warranty does the {p} have?",
        ["{p} guarantee", "is my {p} covered", "broken {p} under warranty"],
        "The {p} has a {d}-month warranty against defects.",
    ),
    (
        "stock",
        "When is the {p} back in stock?",
        ["{p} sold out", "restock date for the {p}", "notify me about the {p}"],
        "Sold-out sizes of the {p} return within {d} days.",
    ),
    (
        "repair",
        "Can you repair my {p}?",
        ["fix a torn {p}", "{p} repair cost", "mend my {p}"],
        "Our workshop repairs the {p} from {d} euros, in two to three weeks.",
    ),
    (
        "ship",
        "How fast do you ship the {p}?",
        ["{p} delivery time", "when will my {p} arrive", "express shipping for the {p}"],
        "The {p} ships in {d} working days by DHL or DPD.",
    ),
    (
        "material",
        "What is the {p} made of?",
        ["{p} fabric", "is the {p} recycled", "materials of the {p}"],
        "The {p} uses {d}% recycled fabric and a PFAS-free finish.",
    ),
]
FILLER = (
    "Our customer service team can help by phone or email if anything is unclear. "
    "Keep the receipt or order number at hand, and check the product page for details."
)


def make_entries(n: int) -> list[dict[str, object]]:
    rng = random.Random(7)
    entries = []
    for i in range(n):
        p = PRODUCTS[i % len(PRODUCTS)] + ("" if i < 160 else f" model {i // 160}")
        key, q, alts, a = TOPICS[(i // len(PRODUCTS)) % len(TOPICS)]
        d = rng.randint(2, 90)
        entries.append(
            {
                "id": f"{key}-{i:04d}",
                "question": q.format(p=p),
                "answer": a.format(p=p, d=d) + " " + FILLER,
                "questions": [x.format(p=p) for x in alts],
            }
        )
    return entries


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def quiet_pipeline(
    settings: Settings, embedder: Embedder, multilingual: Embedder | None = None
) -> IngestPipeline:
    """An ingest pipeline on the settings' index folder that prints nothing."""
    return IngestPipeline(
        settings,
        embedder,
        make_vector_backend(settings.index, embedder),
        IndexStore(settings.index.path),
        log=lambda _: None,
        multilingual=multilingual,
    )


def main() -> None:
    entries = make_entries(N_ENTRIES)
    with tempfile.TemporaryDirectory(prefix="faqbot-bench-") as tmp:
        tmp_path = Path(tmp)
        source = tmp_path / "faq.jsonl"
        source.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
        # A synthetic FAQ has no returns-window entry for order answers to quote.
        settings = Settings(
            index={"path": tmp_path / "index"}, orders={"returns_window_entry": None}
        )

        t0 = time.perf_counter()
        embedder = make_embedder(settings.embedding)
        embedder.embed(["warm up"])
        encoder = UseEmbedder()  # other languages, as `faqbot ingest` builds them
        encoder.embed(["warm up"])
        model_load = time.perf_counter() - t0

        def pipeline() -> IngestPipeline:
            return quiet_pipeline(settings, embedder, encoder)

        t0 = time.perf_counter()
        report = pipeline().run([source])
        full_ingest = time.perf_counter() - t0
        texts = report.embedded_texts
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in report.stage_seconds.items())

        calls_before = embedder.calls
        t0 = time.perf_counter()
        noop = pipeline().run([source])
        noop_seconds = time.perf_counter() - t0
        noop_calls = embedder.calls - calls_before
        assert not noop.published

        # One edited entry: the incremental path.
        entries[5]["answer"] = str(entries[5]["answer"]) + " Updated."
        source.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
        t0 = time.perf_counter()
        edit = pipeline().run([source])
        edit_seconds = time.perf_counter() - t0

        retriever = Retriever.open(
            IndexStore(settings.index.path),
            make_vector_backend(settings.index, embedder),
            embedder,
            settings.retrieval,
        )
        rng = random.Random(11)
        queries = [str(rng.choice(rng.choice(entries)["questions"])) for _ in range(N_QUERIES)]
        for q in queries[:20]:
            retriever.search(q)  # warm caches
        latencies, embed_ms, vector_ms = [], [], []
        for q in queries:
            t = time.perf_counter()
            result = retriever.search(q)
            latencies.append((time.perf_counter() - t) * 1000)
            embed_ms.append(result.timings_ms["embed"])
            vector_ms.append(result.timings_ms["vector"])

    rows = [
        ("entries / texts embedded", f"{N_ENTRIES} / {texts}"),
        ("model load + warm-up", f"{model_load:.1f} s"),
        (
            "full ingest (model loaded)",
            f"{full_ingest:.1f} s ({texts / full_ingest:.0f} texts/s overall)",
        ),
        ("  stages", stages),
        ("re-run, nothing changed", f"{noop_seconds:.2f} s, {noop_calls} embedding calls"),
        ("re-run, one entry edited", f"{edit_seconds:.1f} s, {edit.embedded_texts} texts embedded"),
        (
            "retrieval p50 / p95 / max",
            f"{statistics.median(latencies):.1f} / "
            f"{percentile(latencies, 0.95):.1f} / {max(latencies):.1f} ms ({N_QUERIES} queries)",
        ),
        ("  of which query embedding p50", f"{statistics.median(embed_ms):.1f} ms"),
        ("  of which Chroma query p50", f"{statistics.median(vector_ms):.1f} ms"),
    ]
    body = "| measure | result |\n|---|---|\n" + "".join(f"| {k} | {v} |\n" for k, v in rows)
    for k, v in rows:
        print(f"{k:36s} {v}")
    write_section(
        "Ingest and retrieval (bench/ingest_retrieval.py)",
        f"{machine_description()}, Python {platform.python_version()}\n\n{body}",
    )


if __name__ == "__main__":
    main()
