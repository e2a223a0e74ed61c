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
