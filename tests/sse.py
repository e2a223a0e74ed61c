"""Reads a Server-Sent Events body as the chat page does: (event, JSON data) pairs."""

from __future__ import annotations

import json


def sse_events(text: str) -> list[tuple[str, dict[str, object]]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events
