"""Writes benchmark results into docs/benchmarks.md, one section per benchmark."""

from __future__ import annotations

import os
import platform
import re
import time
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
HEADER = (
    "# Benchmarks\n\nWritten by the scripts in `bench/`; each section is replaced when its "
    "script runs again. Timings on shared 2-core VMs are noisy: compare within one run.\n"
)


def machine_description() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{time.strftime('%Y-%m-%d')}, {cpu}, {os.cpu_count()} cores{mem}"


def write_section(title: str, body: str) -> None:
    DOC.parent.mkdir(parents=True, exist_ok=True)
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else HEADER
    section = f"## {title}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = (
        pattern.sub(lambda _: section + "\n", text)
        if pattern.search(text)
        else (text.rstrip() + "\n\n" + section)
    )
    DOC.write_text(text.rstrip() + "\n", encoding="utf-8")


def table(rows: dict[str, str]) -> str:
    """Prints the rows and returns them as a markdown table."""
    for k, v in rows.items():
        print(f"{k}: {v}")
    return "| measure | result |\n|---|---|\n" + "".join(
        f"| {k} | {v} |\n" for k, v in rows.items()
    )
