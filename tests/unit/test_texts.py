"""The texts customers read are written once, in one catalogue per language, which the
server reads and the page's scripts import (service/texts.py, static/i18n.js)."""

from __future__ import annotations

import re

import pytest

from service.retrieval.language import LANGUAGES
from service.texts import TEXTS_DIR, catalogue, languages, page_texts, phrase

PLACEHOLDER = re.compile(r"\{(\w+)\}")
I18N = TEXTS_DIR.parent / "i18n.js"


def _placeholders(value: object) -> set[str]:
    return set(PLACEHOLDER.findall(value)) if isinstance(value, str) else set()


def test_there_is_a_catalogue_for_every_language_the_chat_answers_in() -> None:
    assert set(languages()) == set(LANGUAGES)
    # The scripts offer the same languages (i18n.js SUPPORTED).
    supported = re.search(r"SUPPORTED = \[([^\]]*)\]", I18N.read_text(encoding="utf-8"))
    assert supported is not None
    assert set(re.findall(r"'(\w+)'", supported.group(1))) == set(LANGUAGES)


@pytest.mark.parametrize("lang", LANGUAGES[1:])
def test_every_text_has_each_languages_wording_with_the_same_placeholders(lang: str) -> None:
    english, other = catalogue("en"), catalogue(lang)
    assert other.keys() == english.keys()
    for section in ("page", "chat"):
        assert other[section].keys() == english[section].keys(), section
        for key, text in english[section].items():
            if text is None:  # English-only notes, and the page greeting from the settings
                continue
            assert other[section][key], (section, key)
            assert _placeholders(other[section][key]) == _placeholders(text), (section, key)
    orders = english["orders"]
    for key, text in orders.items():
        if key != "statuses":
            assert _placeholders(other["orders"][key]) == _placeholders(text), key
    assert set(other["orders"]["statuses"]) >= {"shipped", "in_transit", "delivered"}


def test_texts_fill_their_named_placeholders() -> None:
    decline = phrase("decline", "de", contact="help@example.com")
    assert decline is not None and "help@example.com" in decline and "{" not in decline
    assert phrase("english_only", "en") is None  # English needs no note
    assert page_texts("xx") == page_texts("en")  # a language we lack: English
    assert catalogue("../en") == catalogue("en")  # never a path


def test_the_scripts_read_the_catalogues_not_texts_of_their_own() -> None:
    """No customer-facing text in the scripts: i18n.js imports the catalogue."""
    source = I18N.read_text(encoding="utf-8")
    assert "./texts/en.json" in source and "./texts/${lang}.json" in source
    for text in page_texts("de").values():
        if text:
            assert text not in source
