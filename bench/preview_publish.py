"""Preview then publish of one edited entry in a 1,000-entry FAQ: the publish reuses the
candidate the preview built (same sources, same live version), so preview + publish
should take the preview's time plus little. Measured against a publish that builds
again (the edit changed after the preview), in one run, rounds alternating.

Run: .venv/bin/python bench/preview_publish.py [--entries 1000] [--rounds 3]
Prints the numbers and rewrites its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ingest_retrieval import make_entries, quiet_pipeline  # noqa: E402
from bench.report import machine_description, write_section  # noqa: E402
from ingest.pipeline import IngestPipeline  # noqa: E402
from service.config import Settings  # noqa: E402
from service.retrieval.embedder import make_embedder  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    entries = make_entries(args.entries)
    with tempfile.TemporaryDirectory(prefix="faqbot-bench-") as tmp:
        source = Path(tmp) / "faq.jsonl"
        settings = Settings(
            index={"path": Path(tmp) / "index"}, orders={"returns_window_entry": None}
        )
        embedder = make_embedder(settings.embedding)

        def pipeline() -> IngestPipeline:
            return quiet_pipeline(settings, embedder)

        def write(n: int) -> None:
            entries[0]["answer"] = f"Edited answer number {n}. " + str(entries[1]["answer"])
            source.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")

        write(0)
        pipeline().run([source])
        timings: dict[str, list[float]] = {"preview": [], "reused": [], "built": []}
        edit = 0
        for _ in range(args.rounds):
            for case in ("reused", "built"):
                edit += 1
                write(edit)
                t0 = time.perf_counter()
                pipeline().run([source], publish=False)
                timings["preview"].append(time.perf_counter() - t0)
                if case == "built":
                    edit += 1
                    write(edit)  # edited again after the preview: must build
                t0 = time.perf_counter()
                report = pipeline().run([source])
                timings[case].append(time.perf_counter() - t0)
                assert report.published and report.reused_candidate == (case == "reused")
    med = {k: statistics.median(v) for k, v in timings.items()}
    body = (
        f"Run on {machine_description()}; `bench/preview_publish.py`, {args.entries} "
        f"entries, one edited entry, {args.rounds} rounds (medians; no gate).\n\n"
        "| step | seconds (median) |\n|---|---|\n"
        f"| preview (builds the candidate) | {med['preview']:.2f} |\n"
        f"| publish after it, same sources (publishes the candidate) | {med['reused']:.2f} |\n"
        f"| publish after it, sources edited again (builds) | {med['built']:.2f} |\n\n"
        f"Preview + publish: {med['preview'] + med['reused']:.2f} s, the preview's time plus "
        f"{med['reused']:.2f} s (the issue's bound: plus 2 s); building again would add "
        f"{med['built']:.2f} s."
    )
    print(body)
    write_section("Preview then publish (issue 24)", body)


if __name__ == "__main__":
    main()
