"""The texts customers read, one JSON catalogue per language (en.json, de.json, ...),
read here by the server and served to the page's scripts (/static/texts/), so each text
is written once.

Each catalogue has three sections: ``page`` (the chat page and widget), ``chat`` (the
fixed replies of a turn and the order flow) and ``orders`` (the order answers' sentence
patterns, date formats and status names). Placeholders are named, ``{contact}``; a text
that does not exist in a language is null.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

TEXTS_DIR = Path(__file__).parent / "web" / "static" / "texts"
ENGLISH = "en"


@cache
def catalogue(lang: str) -> dict[str, Any]:
    """The language's catalogue; English for a language we have none for."""
    path = TEXTS_DIR / f"{lang}.json"
    if lang != ENGLISH and (not lang.isalpha() or not path.is_file()):
        return catalogue(ENGLISH)
    texts: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return texts


@cache
def languages() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in TEXTS_DIR.glob("*.json")))


def phrase(key: str, lang: str, **values: str) -> str | None:
    """A chat text in that language, placeholders filled in; None where the language has
    none (the English-only note, in English)."""
    text: str | None = catalogue(lang)["chat"].get(key)
    return text.format(**values) if text is not None else None


def page_texts(lang: str) -> dict[str, str | None]:
    texts: dict[str, str | None] = catalogue(lang)["page"]
    return texts
