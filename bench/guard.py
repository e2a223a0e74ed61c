"""Grounding guard cost: the time the sentence guard adds to one generated answer, fed
token by token as a model streams it, with the real FAQ's passages.

Run: .venv/bin/python bench/guard.py
Prints the numbers and rewrites its section of docs/benchmarks.md.
"""

from __future__ import annotations

import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import machine_description, table, write_section  # noqa: E402
from service.chat.guard import SentenceGuard  # noqa: E402
from service.chat.prompt import PromptBuilder  # noqa: E402
from service.config import ChatSettings  # noqa: E402
from service.llm.base import approximate_tokens  # noqa: E402
from service.sources.parse import parse_sources  # noqa: E402


def main() -> None:
    entries = parse_sources([ROOT / "data" / "faq"]).entries
    prefix = PromptBuilder(ChatSettings(), approximate_tokens).system_prefix
    per_answer: list[float] = []
    sentences = 0
    for i, entry in enumerate(entries):
        passages = [e.answer for e in entries[i : i + 3]]
        # The answer a model would write: the entry's text, token by token (about
        # four characters a token), three sentences at most.
        text = entry.answer
        tokens = [text[j : j + 4] for j in range(0, len(text), 4)]
        for _ in range(20):
            guard = SentenceGuard(passages, prefix)
            t0 = time.perf_counter()
            for token in tokens:
                verdict = guard.feed(token)
                if verdict.stop is not None or guard.full:
                    break
            else:
                guard.finish()
            guard.answer()
            per_answer.append((time.perf_counter() - t0) * 1000)
        sentences += len(guard.accepted)
    per_answer.sort()
    rows = {
        "answers checked": f"{len(entries)} FAQ answers x 20, token by token, 3 passages each",
        "guard time per answer (p50 / p95 / max)": (
            f"{statistics.median(per_answer):.2f} / "
            f"{per_answer[int(0.95 * (len(per_answer) - 1))]:.2f} / {per_answer[-1]:.2f} ms"
        ),
        "sentences accepted per answer (mean)": f"{sentences / len(entries):.1f}",
    }
    write_section(
        "Grounding guard (bench/guard.py)",
        f"{machine_description()}, Python {platform.python_version()}\n\n{table(rows)}",
    )


if __name__ == "__main__":
    main()
