"""The order answers' wording, in each language the chat serves: every fact from the
database, nothing invented; only the sentences around the facts change. The sentence
patterns are the "orders" section of each language's catalogue (service/texts.py).

Dates are numeric outside English (no month names to translate); order statuses and
tracking events have their names in each language, and an unknown one is shown as stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from service.orders.extract import Topic
from service.orders.facts import OrderFacts
from service.texts import catalogue, languages


@dataclass(frozen=True)
class Wording:
    date: str  # strftime pattern
    time: str
    placed: str  # {n} {d} {status}
    carrier: str  # {c} {t}
    tracking: str  # {t}: a tracking number without a carrier's name
    latest: str  # {s} {where} {when}
    where: str  # {loc}
    delivered: str  # {d}
    expected: str  # {d}
    items: str  # {items} {total} {cur}
    nothing: str
    returned: str
    once: str  # {days}
    until: str  # {d} {days}
    ended: str  # {days} {d}
    t_returns: str  # {n} {ret}
    t_items: str  # {n} {items}
    t_carrier: str  # {n} {c} {t}
    t_tracking: str  # {n} {t}
    t_no_carrier: str  # {n}
    t_delivered: str  # {n} {d}
    t_expected: str  # {n} {d}
    statuses: dict[str, str]


WORDINGS: dict[str, Wording] = {lang: Wording(**catalogue(lang)["orders"]) for lang in languages()}
EN = WORDINGS["en"]


def _w(lang: str) -> Wording:
    return WORDINGS.get(lang, EN)


def _status(w: Wording, status: str) -> str:
    return w.statuses.get(status, status.replace("_", " "))


def _day(w: Wording, value: date | datetime) -> str:
    return f"{value:{w.date}}"


def _items(facts: OrderFacts) -> str:
    return ", ".join(f"{i.quantity} × {i.name}" for i in facts.items)


def describe_order(
    facts: OrderFacts, returns_window_days: int, today: datetime, lang: str = "en"
) -> str:
    """The templated answer: every fact from the database, nothing invented."""
    w = _w(lang)
    lines = [
        w.placed.format(
            n=facts.order_number, d=_day(w, facts.placed_at), status=_status(w, facts.status)
        )
    ]
    if facts.carrier and facts.tracking_number:
        lines.append(w.carrier.format(c=facts.carrier, t=facts.tracking_number))
    elif facts.tracking_number:
        lines.append(w.tracking.format(t=facts.tracking_number))
    if facts.events:
        last = facts.events[-1]
        where = w.where.format(loc=last.location) if last.location else ""
        when = f"{last.occurred_at:{w.time}}"
        lines.append(w.latest.format(s=_status(w, last.status), where=where, when=when))
    if facts.delivered_at is not None:
        lines.append(w.delivered.format(d=_day(w, facts.delivered_at)))
    elif facts.expected_delivery is not None and facts.status not in (
        "cancelled",
        "refunded",
        "returned",
    ):
        lines.append(w.expected.format(d=_day(w, facts.expected_delivery)))
    total = f"{facts.total_cents / 100:.2f}"
    lines.append(w.items.format(items=_items(facts), total=total, cur=facts.currency))
    lines.append(return_eligibility(facts, returns_window_days, today, lang))
    return " ".join(lines)


def describe_topic(
    facts: OrderFacts, topic: Topic, window_days: int, today: datetime, lang: str = "en"
) -> str:
    """A follow-up's answer from the verified order's facts alone."""
    w, n = _w(lang), facts.order_number
    if topic == "returns":
        return w.t_returns.format(n=n, ret=return_eligibility(facts, window_days, today, lang))
    if topic == "items":
        return w.t_items.format(n=n, items=_items(facts))
    if topic == "carrier":
        if facts.carrier and facts.tracking_number:
            return w.t_carrier.format(n=n, c=facts.carrier, t=facts.tracking_number)
        if facts.tracking_number:
            return w.t_tracking.format(n=n, t=facts.tracking_number)
        return w.t_no_carrier.format(n=n)
    if topic == "arrival":
        if facts.delivered_at is not None:
            return w.t_delivered.format(n=n, d=_day(w, facts.delivered_at))
        if facts.expected_delivery is not None and facts.status not in ("cancelled", "refunded"):
            return w.t_expected.format(n=n, d=_day(w, facts.expected_delivery))
    return describe_order(facts, window_days, today, lang)


def return_eligibility(
    facts: OrderFacts, window_days: int, today: datetime, lang: str = "en"
) -> str:
    w = _w(lang)
    if facts.status in ("cancelled", "refunded"):
        return w.nothing
    if facts.status == "returned":
        return w.returned
    if facts.delivered_at is None:
        return w.once.format(days=window_days)
    last_day = (facts.delivered_at + timedelta(days=window_days)).date()
    if today.date() <= last_day:
        return w.until.format(d=_day(w, last_day), days=window_days)
    return w.ended.format(days=window_days, d=_day(w, last_day))
