"""When a person answers in the chat: the shop's opening hours, in its time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from service.config import HandoffSettings
from service.opening_hours import OpeningHours

HOURS = "Mon-Fri 08:00-20:00; Sat 09:00-16:00"


def test_open_inside_the_hours_in_the_shops_time_zone() -> None:
    hours = OpeningHours.parse(HOURS, "Europe/Berlin")
    # Thursday 3 December 2026: 07:30 UTC is 08:30 in Berlin
    assert hours.open_at(datetime(2026, 12, 3, 7, 30, tzinfo=UTC))
    assert not hours.open_at(datetime(2026, 12, 3, 6, 30, tzinfo=UTC))  # 07:30 there
    assert not hours.open_at(datetime(2026, 12, 3, 19, 0, tzinfo=UTC))  # 20:00: closed
    assert hours.open_at(datetime(2026, 12, 5, 10, 0, tzinfo=UTC))  # Saturday 11:00
    assert not hours.open_at(datetime(2026, 12, 6, 10, 0, tzinfo=UTC))  # Sunday
    always = OpeningHours.parse("Mon-Sun 00:00-24:00", "UTC")
    assert always.open_at(datetime(2026, 12, 6, 23, 59, tzinfo=UTC))


@pytest.mark.parametrize(
    ("hours", "says"),
    [
        ("weekdays 9-5", "is not like"),
        ("Mon-Fry 08:00-20:00", "unknown day"),
        ("Mon 20:00-08:00", "ends before it starts"),
        ("Mon 25:00-26:00", "not a time of day"),
    ],
)
def test_hours_that_do_not_read_are_refused_in_words(hours: str, says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        HandoffSettings(hours=hours)
    with pytest.raises(ValidationError, match="unknown time zone"):
        HandoffSettings(hours=HOURS, hours_timezone="Mars/Olympus")


def test_without_hours_the_reply_comes_by_email() -> None:
    assert not HandoffSettings().people_answer(datetime(2026, 12, 3, 10, tzinfo=UTC))
    assert HandoffSettings(hours="Mon-Sun 00:00-24:00").people_answer(datetime.now(UTC))
