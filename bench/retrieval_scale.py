"""Retrieval latency as the FAQ grows: 1,000, 10,000 and 100,000 entries.

Run: .venv/bin/python bench/retrieval_scale.py [--sizes 1000,10000,100000]
Prints the numbers and rewrites its section of docs/benchmarks.md.

Entries come from bench/ingest_retrieval.py's generator (products x topics, numbered
models beyond the first 160). Embedding 500,000 texts would take half an hour here and
measures nothing new, so the index is built from synthetic vectors: each text's vector
is the real model's vector of its template (digits removed) plus seeded noise, so that
entries differ and neighbourhoods are as crowded as in a real catalogue of variants.
Everything else is the product's own path: the ingest pipeline (Chroma, BM25, the
classifier chosen by size, the calibration) and a Retriever that embeds each query with
the real model.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ingest_retrieval import make_entries, percentile  # noqa: E402
from bench.report import machine_description, write_section  # noqa: E402
from ingest.pipeline import IngestPipeline  # noqa: E402
from service.config import Settings  # noqa: E402
from service.retrieval.embedder import (  # noqa: E402
    Embedder,
    ProgressCallback,
    Vectors,
    make_embedder,  # noqa: E402
)
from service.retrieval.neighbours import load_classifier  # noqa: E402
from service.retrieval.retriever import Retriever  # noqa: E402
from service.retrieval.schema import CLASSIFIER_FILE  # noqa: E402
from service.retrieval.store import IndexStore  # noqa: E402
from service.retrieval.vector_index import make_vector_backend  # noqa: E402

N_QUERIES = 400
NOISE = 0.15  # per-dimension noise before normalising: variants stay near their template
_DIGITS = re.compile(r"\d+")


class TemplateEmbedder:
    """The real model on each text's template, plus noise seeded by the text itself."""

    def __init__(self, real: Embedder) -> None:
        self._real = real
        self._templates: dict[str, np.ndarray] = {}

    @property
    def model_id(self) -> str:
        return self._real.model_id  # the Retriever embeds queries with the real model

    @property
    def dimension(self) -> int:
        return self._real.dimension

    def embed(self, texts: Sequence[str], *, progress: ProgressCallback | None = None) -> Vectors:
        keys = [_DIGITS.sub("#", t) for t in texts]
        todo = sorted({k for k in keys if k not in self._templates})
        if todo:
            self._templates.update(zip(todo, self._real.embed(todo), strict=True))
        dim = self.dimension
        out = np.empty((len(texts), dim), dtype=np.float32)
        for i, (text, key) in enumerate(zip(texts, keys, strict=True)):
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
            noise = np.random.default_rng(seed).standard_normal(dim) * NOISE
            v = self._templates[key] + noise / np.sqrt(dim)
            out[i] = v / np.linalg.norm(v)
        return out


def measure(size: int, real: Embedder) -> dict[str, Any]:
    entries = make_entries(size)
    with tempfile.TemporaryDirectory(prefix="faqbot-scale-") as tmp:
        tmp_path = Path(tmp)
        source = tmp_path / "faq.jsonl"
        source.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
        settings = Settings(
            index={"path": tmp_path / "index"}, orders={"returns_window_entry": None}
        )
        store = IndexStore(settings.index.path)
        synthetic = TemplateEmbedder(real)
        pipeline = IngestPipeline(
            settings,
            synthetic,
            make_vector_backend(settings.index, synthetic),
            store,
            log=lambda _: None,
        )
        t0 = time.perf_counter()
        report = pipeline.run([source])
        ingest_s = time.perf_counter() - t0
        live = store.require_live()
        kind = type(load_classifier(store.version_dir(live.version) / CLASSIFIER_FILE)).__name__
        retriever = Retriever.open(
            store, make_vector_backend(settings.index, real), real, settings.retrieval
        )
        rng = random.Random(11)
        queries = [str(rng.choice(rng.choice(entries)["questions"])) for _ in range(N_QUERIES)]
        for q in queries[:20]:
            retriever.search(q)  # warm caches
        total, embed, vector, fuse = [], [], [], []
        # one BLAS thread, as `faqbot serve` sets (service/server.py); ingest used all
        with threadpool_limits(limits=1, user_api="blas"):
            for q in queries:
                t = time.perf_counter()
                result = retriever.search(q)
                total.append((time.perf_counter() - t) * 1000)
                embed.append(result.timings_ms["embed"])
                vector.append(result.timings_ms["vector"])
                fuse.append(result.timings_ms["fuse"])
        del retriever
        gc.collect()
    stages = {k: round(v, 1) for k, v in report.stage_seconds.items() if k != "embed"}
    return {
        "entries": size,
        "vectors": report.embedded_texts,
        "classifier": kind,
        "ingest_s": ingest_s,
        "stages": stages,
        "p50": statistics.median(total),
        "p95": percentile(total, 0.95),
        "max": max(total),
        "embed_p50": statistics.median(embed),
        "vector_p50": statistics.median(vector),
        "vector_p95": percentile(vector, 0.95),
        "fuse_p50": statistics.median(fuse),
        "fuse_p95": percentile(fuse, 0.95),
    }


def render(results: list[dict[str, Any]]) -> str:
    body = (
        "| entries (vectors) | classifier | retrieval p50 / p95 / max | query embedding p50 "
        "| Chroma p50 / p95 | scoring p50 / p95 | ingest, embedding excluded |\n"
        "|---|---|---|---|---|---|---|\n"
    )
    for r in results:
        stages = r["stages"]
        detail = ", ".join(f"{k} {v} s" for k, v in stages.items())
        body += (
            f"| {r['entries']:,} ({r['vectors']:,}) | {r['classifier']} "
            f"| {r['p50']:.1f} / {r['p95']:.1f} / {r['max']:.1f} ms | {r['embed_p50']:.1f} ms "
            f"| {r['vector_p50']:.1f} / {r['vector_p95']:.1f} ms "
            f"| {r['fuse_p50']:.1f} / {r['fuse_p95']:.1f} ms "
            f"| {sum(stages.values()):.1f} s ({detail}) |\n"
        )
    return body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument(
        "--results", type=Path, help="re-write the section from this run's printed JSON lines"
    )
    args = parser.parse_args()
    if args.results:
        lines = args.results.read_text(encoding="utf-8").splitlines()
        results = [json.loads(line) for line in lines if line.startswith("{")]
    else:
        real = make_embedder(Settings().embedding)
        real.embed(["warm up"])
        results = []
        for size in (int(s) for s in args.sizes.split(",")):
            results.append(measure(size, real))
            print(json.dumps(results[-1]), flush=True)
    write_section(
        "Retrieval at scale (bench/retrieval_scale.py)",
        f"{machine_description()}, Python {platform.python_version()}. Synthetic vectors "
        f"(the real model on each text's template plus noise), real query embeddings, "
        f"{N_QUERIES} queries per size.\n\n{render(results)}",
    )


if __name__ == "__main__":
    main()
