"""Progress for long work: a bar on a terminal, plain lines in logs and CI."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, label: str, stream: TextIO | None = None) -> None:
        self.total = total
        self.label = label
        self.done = 0
        self._stream = stream or sys.stderr
        self._started = time.perf_counter()
        self._next_report = 0.1
        self._bar = None
        if self._stream.isatty() and total > 0:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=label, unit="text", file=self._stream)

    def __call__(self, n: int) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
            return
        # Not a terminal: one line per tenth, so logs stay short but show movement.
        fraction = self.done / self.total if self.total else 1.0
        if fraction >= self._next_report or self.done >= self.total:
            elapsed = time.perf_counter() - self._started
            print(
                f"{self.label}: {self.done}/{self.total} ({fraction:.0%}, {elapsed:.1f}s)",
                file=self._stream,
                flush=True,
            )
            while self._next_report <= fraction:
                self._next_report += 0.1

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
