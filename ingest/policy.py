"""Policy numbers the order answers use, read from the FAQ itself at ingest, so the
published FAQ is the only place an editor changes a policy.

Today one: the returns window ("You can return unworn items within 30 days"), from the
entry named by FAQBOT_ORDERS__RETURNS_WINDOW_ENTRY. An ingest whose FAQ lacks that entry,
or whose entry states no number of days, is refused: order answers would otherwise
quote a number the FAQ no longer says."""

from __future__ import annotations

import re

from service.retrieval.schema import FaqEntry

_DAYS = re.compile(r"(\d{1,3})\W{0,4}\s*days?\b", re.IGNORECASE)


class PolicyError(ValueError):
    pass


def read_policy(entries: list[FaqEntry], returns_window_entry: str | None) -> dict[str, int]:
    if returns_window_entry is None:
        return {}
    entry = next((e for e in entries if e.id == returns_window_entry), None)
    if entry is None:
        raise PolicyError(
            f'entry "{returns_window_entry}" is not in the FAQ: order answers take the '
            "returns window from it (FAQBOT_ORDERS__RETURNS_WINDOW_ENTRY)"
        )
    m = _DAYS.search(entry.answer)
    if m is None:
        raise PolicyError(
            f'{entry.source}: entry "{entry.id}" states no returns window ("within N '
            'days"), which order answers quote'
        )
    return {"returns_window_days": int(m.group(1))}
