from __future__ import annotations

import io

from ingest.progress import Progress


def test_plain_lines_when_not_a_terminal() -> None:
    out = io.StringIO()
    progress = Progress(100, "embedding", stream=out)
    for _ in range(20):
        progress(5)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("embedding: 10/100 (10%")
    assert lines[-1].startswith("embedding: 100/100 (100%")
    assert len(lines) == 10


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_on_a_terminal() -> None:
    out = _Terminal()
    progress = Progress(50, "embedding", stream=out)
    for _ in range(5):
        progress(10)
    progress.close()
    text = out.getvalue()
    assert "\r" in text and "50/50" in text and "embedding" in text
    assert "embedding: 10/50" not in text  # no plain lines on a terminal
