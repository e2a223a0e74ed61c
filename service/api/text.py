"""Free text from clients: what every text field accepts."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator


def readable(value: str) -> str:
    """Drops control, format and surrogate characters (categories C*), keeping newlines
    and tabs: they carry no meaning for the FAQ, can hide text from people reading the
    logs, and a lone surrogate cannot even be stored or encoded."""
    cleaned = "".join(c for c in value if c in "\n\t" or unicodedata.category(c)[0] != "C")
    cleaned = cleaned.strip()
    if not cleaned:
        raise ValueError("the text is empty")
    return cleaned


ReadableText = Annotated[str, AfterValidator(readable)]
