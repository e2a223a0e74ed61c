"""Masking of personal data in logs and stored chat history: emails, postal codes named
as such, street lines. The email and postal-code patterns are the ones order lookup uses
to find them, so what is recognised there is masked here."""

from __future__ import annotations

import re

from service.orders.extract import EMAIL_PATTERN, POSTCODE_PATTERN

_EMAIL = re.compile(EMAIL_PATTERN)
_POSTAL = re.compile(POSTCODE_PATTERN)
_STREET = re.compile(
    r"(?i)\b[\wäöüß.-]+(?:straße|strasse|str\.|weg|gasse|street|road|lane)\s+\d+\w?\b"
)


def _mask_email(m: re.Match[str]) -> str:
    local, _, domain = m.group(0).partition("@")
    return f"{local[:1]}***@{domain}"


def _mask_postal(m: re.Match[str]) -> str:
    return m.group(0)[: m.start("code") - m.start(0)] + "***"


def mask_pii(text: str) -> str:
    text = _EMAIL.sub(_mask_email, text)
    text = _POSTAL.sub(_mask_postal, text)
    return _STREET.sub("*** (address)", text)
