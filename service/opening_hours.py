"""When people answer: "Mon-Fri 08:00-20:00; Sat 09:00-16:00" in the shop's time zone.
Inside the hours the handoff says a person usually replies within a few minutes, here;
outside them it says the reply comes by email, as before."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PART = re.compile(
    r"^\s*(?P<first>[a-z]{3})(?:\s*-\s*(?P<last>[a-z]{3}))?\s+"
    r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$",
    re.I,
)


@dataclass(frozen=True)
class OpeningHours:
    spans: tuple[tuple[int, time, time], ...]  # weekday (0 = Monday), from, until
    zone: ZoneInfo

    @classmethod
    def parse(cls, text: str, zone: str) -> OpeningHours:
        """Raises ValueError naming the part that does not read."""
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {zone!r}") from None
        spans: list[tuple[int, time, time]] = []
        for part in filter(str.strip, text.split(";")):
            m = _PART.match(part)
            if m is None:
                raise ValueError(
                    f"opening hours: {part.strip()!r} is not like 'Mon-Fri 08:00-20:00'"
                )
            first, last = m["first"].lower(), (m["last"] or m["first"]).lower()
            if first not in DAYS or last not in DAYS:
                raise ValueError(f"opening hours: unknown day in {part.strip()!r}")
            start, end = _clock(m["start"]), _clock(m["end"])
            if end <= start and end != time(0):
                raise ValueError(f"opening hours: {part.strip()!r} ends before it starts")
            for day in range(DAYS.index(first), DAYS.index(last) + 1):
                spans.append((day, start, end))
        return cls(tuple(spans), tz)

    def open_at(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        now = local.time()
        return any(
            day == local.weekday() and start <= now and (now < end or end == time(0))
            for day, start, end in self.spans
        )


def _clock(text: str) -> time:
    hours, minutes = (int(x) for x in text.split(":"))
    if hours == 24 and minutes == 0:
        return time(0)  # until midnight
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ValueError(f"opening hours: {text} is not a time of day")
    return time(hours, minutes)


@lru_cache(maxsize=8)
def parsed(text: str, zone: str) -> OpeningHours:
    """The hours of the settings, read once (asked at every handoff offer)."""
    return OpeningHours.parse(text, zone)
