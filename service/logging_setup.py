"""Logging with personal data masked: emails, postal codes after a keyword, street lines."""

from __future__ import annotations

import logging
import re

_EMAIL = re.compile(r"(?i)\b([a-z0-9._%+-])[a-z0-9._%+-]*@([a-z0-9.-]+\.[a-z]{2,24})\b")
_POSTAL = re.compile(r"(?i)\b(post(?:al)?\s*code|postcode|zip|plz)(\s*(?:is|:)?\s*)[a-z0-9 ]{3,10}")
_STREET = re.compile(
    r"(?i)\b[\wäöüß.-]+(?:straße|strasse|str\.|weg|gasse|street|road|lane)\s+\d+\w?\b"
)


def mask_pii(text: str) -> str:
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    text = _POSTAL.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    return _STREET.sub("*** (address)", text)


class PiiFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_pii(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_pii_filter(*names: str) -> None:
    """On the handlers of the root logger and on the named loggers, so records from
    libraries (SQL errors carry parameters) are masked too."""
    pii = PiiFilter()
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, PiiFilter) for f in handler.filters):
            handler.addFilter(pii)
    for name in names or ("faqbot", "uvicorn", "uvicorn.error", "sqlalchemy"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, PiiFilter) for f in logger.filters):
            logger.addFilter(pii)
