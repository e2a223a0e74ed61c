"""The checkable facts in a text: numbers with their units (amounts, durations,
percentages), dates, emails, phone numbers, URLs, and the names of countries, carriers
and payment methods. One extractor serves the grounding guard (a sentence may state only
facts its passages contain), the answer evaluation, and key-fact recall.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["number", "date", "email", "phone", "url", "name"]

MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
]
COUNTRIES = (
    "Germany|Austria|Switzerland|Norway|Denmark|Sweden|Finland|France|Italy|Spain|Portugal|"
    "Netherlands|Belgium|Luxembourg|Poland|Czech Republic|Czechia|Ireland|Iceland|Greece|"
    "Hungary|Slovakia|Slovenia|Croatia|Romania|Bulgaria|Estonia|Latvia|Lithuania|Malta|"
    "Cyprus|Liechtenstein|Monaco|United Kingdom|UK|Great Britain|England|Scotland|Wales|"
    "United States|USA|Canada|Mexico|Brazil|Australia|New Zealand|Japan|China|India|"
    "Russia|Turkey|Ukraine|Israel|South Africa|EU|European Union"
)
CARRIERS = (
    "DHL|DPD|UPS|GLS|Hermes|FedEx|TNT|Royal Mail|PostNord|Austrian Post|Swiss Post|Bring|Posti"
)
PAYMENTS = (
    "Visa|Mastercard|Maestro|American Express|Amex|PayPal|Klarna|Apple Pay|Google Pay|"
    "SEPA|iDEAL|Bancontact|Sofort|TWINT|bank transfer|invoice|gift card|cash on delivery"
)
_NAME = re.compile(rf"\b({COUNTRIES}|{CARRIERS}|{PAYMENTS})\b", re.IGNORECASE)
_CANONICAL = {n.lower(): n for n in f"{COUNTRIES}|{CARRIERS}|{PAYMENTS}".split("|")}
_SYNONYMS = {
    "uk": "united kingdom",
    "great britain": "united kingdom",
    "usa": "united states",
    "us": "united states",
    "amex": "american express",
    "european union": "eu",
    "czechia": "czech republic",
}

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>()\]]+", re.IGNORECASE)
_PHONE = re.compile(r"(?<![\w+])\+\d{1,3}(?:[ ./-]?\d{1,4}){2,5}\b")
_DATE = re.compile(
    rf"\b(\d{{1,2}})\.?\s+({'|'.join(MONTHS)})\b|\b({'|'.join(MONTHS)})\s+(\d{{1,2}})\b"
    r"|\b(\d{4})-(\d{2})-(\d{2})\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)*)(?![\w])")
_CITATION = re.compile(r"\[\d+\]")


@dataclass(frozen=True)
class Fact:
    kind: Kind
    value: str


def _number(text: str) -> str:
    """4,95 == 4.95; 1,000 == 1.000 == 1000 (a thousands separator) ; 30.0 == 30."""
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", text):
        return text.replace(",", "").replace(".", "")
    value = text.replace(",", ".")
    try:
        number = float(value)
    except ValueError:
        return value
    return str(int(number)) if number.is_integer() else str(number)


def _month(name: str) -> str:
    return name.lower()[:3]


def facts(text: str) -> set[Fact]:
    text = _CITATION.sub(" ", text)
    found: set[Fact] = set()
    for rx, kind in ((_EMAIL, "email"), (_URL, "url"), (_PHONE, "phone")):
        for m in rx.finditer(text):
            value = re.sub(r"[\s./-]", "", m.group(0)) if kind == "phone" else m.group(0)
            found.add(Fact(kind, value.lower().rstrip(".,;:")))  # type: ignore[arg-type]
        text = rx.sub(" ", text)  # their digits are not numbers of their own
    for m in _DATE.finditer(text):
        if m.group(5):
            found.add(Fact("date", f"{m.group(5)}-{m.group(6)}-{m.group(7)}"))
        else:
            day, month = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
            found.add(Fact("date", f"{int(day)} {_month(month)}"))
    text = _DATE.sub(" ", text)
    for m in _NUMBER.finditer(text):
        found.add(Fact("number", _number(m.group(1))))
    for m in _NAME.finditer(text):
        name = m.group(1).lower()
        found.add(Fact("name", _SYNONYMS.get(name, name)))
    return found


def unsupported(answer: str, *sources: str) -> list[Fact]:
    """The answer's facts that none of the sources contains."""
    known: set[Fact] = set()
    for source in sources:
        known |= facts(source)
    return sorted(facts(answer) - known, key=lambda f: (f.kind, f.value))
