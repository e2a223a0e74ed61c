"""One masking rule for every text faqbot keeps (chat history, feedback comments,
handoff requests, traces) and for the logs: emails, phone numbers, street lines, and
postal codes, named as such ("postcode 10115") or standing before a town ("10115
Berlin", "1012 AB Amsterdam"). Order lookup finds emails and postal codes with the same
patterns, so what it recognises is masked here.

The shop's own published contact (its support address and phone) is no secret and is
kept where it appears in an answer: a customer reloading the chat still sees how to
reach the shop.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

EMAIL_PATTERN = r"(?i)\b[a-z0-9._%+-]{1,64}@[a-z0-9.-]{1,253}\.[a-z]{2,24}\b"
POSTCODE_PATTERN = (
    r"(?i)\b(?:post(?:al)?\s*code|postcode|zip|plz)\s*(?:is|:)?\s*"
    r"(?P<code>[a-z0-9]{2,4}\s?[a-z0-9]{2,4})\b"
)
_EMAIL = re.compile(EMAIL_PATTERN)
_POSTAL = re.compile(POSTCODE_PATTERN)
# A postal code before a town: five digits (DE, FR, ES, IT) or four digits and two
# letters (NL), followed by a capitalised word; a UK postcode anywhere (its shape alone
# says what it is).
_TOWN_POSTAL = re.compile(
    r"\b(?P<code>\d{5}|\d{4}\s?[A-Z]{2})(?=,?\s+(?!(?:Euro|EUR|USD|GBP|CHF|Dollar|Pound|Stück|Items?)\b)[A-ZÄÖÜÉÈ][\wäöüßéèàç'-]+)"
    r"|\b(?P<uk>[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})\b"
)
# International (+49 ..., 0049 ...) or national (030 ..., 0176-...) numbers of 8 to 15
# digits, and the North American (555) 123-4567 / 555-123-4567 forms. Order numbers
# (six digits, no leading zero) and prices do not match.
_PHONE = re.compile(
    r"(?<![\w+.,])(?:(?:\+|00)\d{1,3}[\s./-]?|0(?=\d))(?:\(\d{1,5}\)[\s./-]?)?\d(?:[\s./-]?\d){7,13}\b"
    r"|\(\d{3}\)\s?\d{3}[\s.-]\d{4}\b|\b\d{3}[.-]\d{3}[.-]\d{4}\b"
)
_STREET = re.compile(
    r"(?i)\b[\wäöüß.-]+(?:straße|strasse|str\.|weg|gasse|platz|allee|street|road|lane|avenue|"
    r"straat|laan|gracht)\s+\d+\w?\b"
    r"|\b\d{1,5}\s+(?:[A-Z][a-z]+\s){1,3}(?:Street|St|Road|Rd|Lane|Avenue|Ave|Way|Drive)\b"
    r"|(?i:\b\d{1,4},?\s+(?:rue|avenue|boulevard|chemin|calle|via|viale|piazza)"
    r"(?:\s+[\w'’-]+){1,3})"
)


def _mask_email(m: re.Match[str]) -> str:
    local, _, domain = m.group(0).partition("@")
    return f"{local[:1]}***@{domain}"


def _mask_code(m: re.Match[str]) -> str:
    return m.group(0)[: m.start("code") - m.start(0)] + "***"


def _phone(_: re.Match[str]) -> str:
    return "*** (phone)"


def public_contacts(text: str) -> frozenset[str]:
    """The emails and phone numbers in the shop's own contact line, kept unmasked."""
    return frozenset(m.group(0) for pattern in (_EMAIL, _PHONE) for m in pattern.finditer(text))


def mask_pii(text: str, public: Iterable[str] = ()) -> str:
    keep = frozenset(public)

    def unless_public(mask: Callable[[re.Match[str]], str]) -> Callable[[re.Match[str]], str]:
        return lambda m: m.group(0) if m.group(0) in keep else mask(m)

    text = _EMAIL.sub(unless_public(_mask_email), text)
    text = _PHONE.sub(unless_public(_phone), text)
    text = _POSTAL.sub(_mask_code, text)
    text = _TOWN_POSTAL.sub("***", text)
    return _STREET.sub("*** (address)", text)
