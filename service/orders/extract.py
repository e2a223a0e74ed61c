"""Finds order numbers, emails and postal codes in free text, without the model.

Order numbers follow the shop's numbering (OrderNumbers: a prefix and a number of
digits; Northwind's "NW-" and 6 digits by default). Accepted forms, for Northwind:
    NW-100234   NW100234   nw 100234   #100234   order 100234   order no. 100234
    order number 100234   Bestellung 100234
All normalise to "NW-100234". A bare number is accepted only when the message also
talks about an order (so "10115 Berlin" is a postal code, not an order).
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Literal

# The patterns service.privacy masks: what is found here is masked there.
from service.privacy import EMAIL_PATTERN, POSTCODE_PATTERN

if TYPE_CHECKING:
    from service.config import OrderSettings

ORDER_PREFIX = "NW-"
_EMAIL = re.compile(EMAIL_PATTERN)
_POSTCODE = re.compile(POSTCODE_PATTERN)
_ORDER_TALK = re.compile(
    r"(?i)\b(order|orders|parcel|package|delivery|shipment|tracking|track|bestellung|"
    r"where is my|wo ist meine)\b"
)


def clean_text(text: str) -> str:
    """NFKC folds full-width digits and look-alikes ("ＮＷ－１００２３４") to ASCII;
    zero-width and other format characters are dropped."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(c for c in folded if unicodedata.category(c) != "Cf")


class OrderNumbers:
    """A shop's order numbering: ``prefix`` (letters, "#" or "-"; may be empty) and
    digits. A number written with or without the prefix's letters, after "#" or after
    "order (number)" normalises to prefix + digits, as the shop writes it."""

    def __init__(self, prefix: str = ORDER_PREFIX, min_digits: int = 6, max_digits: int = 6):
        self.prefix = prefix
        self.example = prefix + "100234567890"[:min_digits]  # for messages: "like NW-100234"
        digits = rf"\d{{{min_digits},{max_digits}}}"
        letters = re.escape(prefix.strip("#-").strip())
        forms = [rf"(?:\#\s*(?P<b>{digits})\b)"]
        if letters:
            forms.insert(0, rf"(?:\b{letters}\s*-?\s*(?P<a>{digits})\b)")
        forms.append(
            r"(?:\b(?:order|bestellung|commande|pedido|ordine|bestelling)"
            rf"(?:\s+(?:no\.?|nr\.?|n°|number|num|id|\#))?\s*[:#]?\s*(?P<c>{digits})\b)"
        )
        self._forms = re.compile("(?i)" + "|".join(forms))
        self._bare = re.compile(rf"(?<![\d-])({digits})(?!\d)")

    def find(self, text: str) -> list[str]:
        text = clean_text(text)
        found: list[str] = []
        for m in self._forms.finditer(text):
            digits = m.group("a") if "a" in m.groupdict() and m.group("a") else None
            found.append(self.prefix + (digits or m.group("b") or m.group("c")))
        if not found and _ORDER_TALK.search(text) and not _POSTCODE.search(text):
            found = [self.prefix + d for d in self._bare.findall(text)]
        return list(dict.fromkeys(found))

    @classmethod
    def of(cls, settings: OrderSettings) -> OrderNumbers:
        return cls(settings.number_prefix, settings.number_min_digits, settings.number_max_digits)


NORTHWIND = OrderNumbers()


def find_order_numbers(text: str, numbers: OrderNumbers = NORTHWIND) -> list[str]:
    return numbers.find(text)


def find_email(text: str) -> str | None:
    m = _EMAIL.search(clean_text(text))
    return m.group(0).lower() if m else None


def find_postal_code(text: str) -> str | None:
    m = _POSTCODE.search(clean_text(text))
    return normalise_postal_code(m.group("code")) if m else None


def normalise_postal_code(code: str) -> str:
    return re.sub(r"\s+", "", code).upper()


def mentions_orders(text: str) -> bool:
    return bool(_ORDER_TALK.search(clean_text(text)))


Topic = Literal["returns", "arrival", "items", "carrier", "status"]
# What a follow-up about "the order" asks, in the customer's words; checked in order.
_TOPICS: list[tuple[Topic, re.Pattern[str]]] = [
    ("returns", re.compile(r"(?i)\b(return|send (it |them )?back|refund|exchange)")),
    (
        "carrier",
        re.compile(r"(?i)\b(carrier|courier|tracking|track|which (company|service)|dhl|dpd|ups)\b"),
    ),
    ("items", re.compile(r"(?i)\b(what (was|is|did i)|items?|contents?|what'?s in|ordered)\b")),
    ("arrival", re.compile(r"(?i)\b(arriv\w*|deliver\w*|when\b|how long|come|eta|get it)")),
    ("status", re.compile(r"(?i)\b(status|where|shipped|sent)\b")),
]
# A follow-up refers back to the order instead of naming one.
_REFERS_BACK = re.compile(
    r"(?i)\b(it|its|them|they|this|that|my (order|parcel|package|stuff|things)|"
    r"the (order|parcel|package|items?|jacket|boots))\b"
)


def follow_up_topic(text: str) -> Topic | None:
    """The topic of a question about an order already verified in the conversation ("can
    I still return it?", "when will it arrive?"), or None if it is not one."""
    text = clean_text(text)
    if not _REFERS_BACK.search(text) and len(text.split()) > 4:
        return None  # a question of its own ("can I return a jacket I bought in store?")
    return next((topic for topic, rx in _TOPICS if rx.search(text)), None)
