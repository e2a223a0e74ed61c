"""Finds order numbers, emails and postal codes in free text, without the model.

Accepted order-number forms (6 digits, the shop's numbering):
    NW-100234   NW100234   nw 100234   #100234   order 100234   order no. 100234
    order number 100234   Bestellung 100234
All normalise to "NW-100234". A bare 6-digit number is accepted only when the message
also talks about an order (so "10115 Berlin" is a postal code, not an order).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

# The patterns service.privacy masks: what is found here is masked there.
from service.privacy import EMAIL_PATTERN, POSTCODE_PATTERN

ORDER_PREFIX = "NW-"
_ORDER_FORMS = re.compile(
    r"""(?ix)
    (?:\bNW\s*-?\s*(?P<a>\d{6})\b)
    | (?:\#\s*(?P<b>\d{6})\b)
    | (?:\b(?:order|bestellung)(?:\s+(?:no\.?|nr\.?|number|num|id|\#))?\s*[:#]?\s*(?P<c>\d{6})\b)
    """
)
_BARE = re.compile(r"(?<![\d-])(\d{6})(?!\d)")
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


def find_order_numbers(text: str) -> list[str]:
    text = clean_text(text)
    found: list[str] = []
    for m in _ORDER_FORMS.finditer(text):
        digits = m.group("a") or m.group("b") or m.group("c")
        found.append(ORDER_PREFIX + digits)
    if not found and _ORDER_TALK.search(text) and not _POSTCODE.search(text):
        found = [ORDER_PREFIX + d for d in _BARE.findall(text)]
    return list(dict.fromkeys(found))


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
