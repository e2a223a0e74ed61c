"""Which language a message is in, and translations in the FAQ sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.sources import parse_sources
from service.chat.phrases import PHRASES, phrase
from service.retrieval.language import (
    LANGUAGES,
    Detected,
    LanguageDetector,
    choose_language,
    parse_accept_language,
)


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Wie lange habe ich Zeit, um etwas zurückzuschicken?", "de"),
        ("Combien coûte la livraison en Belgique ?", "fr"),
        ("¿Cuánto tarda el envío a España?", "es"),
        ("Quanto costa la spedizione in Italia?", "it"),
        ("Hoeveel kost de verzending naar Nederland?", "nl"),
        ("How long do I have to return an item?", "en"),
    ],
)
def test_sentences_are_detected(detector: LanguageDetector, text: str, lang: str) -> None:
    assert detector.detect(text).lang == lang


def test_text_without_letters_has_no_language(detector: LanguageDetector) -> None:
    assert detector.detect("NW-200001 ?!").lang is None


def test_the_message_then_the_conversation_then_the_page_decide() -> None:
    sure, unsure = Detected("fr", 0.9), Detected(None, 0.3)
    assert choose_language(sure, "de", "it", LANGUAGES) == "fr"
    assert choose_language(unsure, "de", "it", LANGUAGES) == "de"
    assert choose_language(unsure, None, "it", LANGUAGES) == "it"
    assert choose_language(unsure, None, None, LANGUAGES) == "en"
    # a language the index does not serve is not chosen
    assert choose_language(Detected("de", 0.9), None, None, ("en",)) == "en"


def test_accept_language_by_q_value() -> None:
    assert parse_accept_language("ja, nl;q=0.4, de-DE;q=0.8, en;q=0.5", LANGUAGES) == "de"
    assert parse_accept_language("fr-CH", LANGUAGES) == "fr"
    assert parse_accept_language("ja, zh;q=0.9", LANGUAGES) is None
    assert parse_accept_language("de;q=oops, it;q=0", LANGUAGES) is None
    assert parse_accept_language(None, LANGUAGES) is None


def test_every_fixed_text_exists_in_every_other_language() -> None:
    for key, texts in PHRASES.items():
        assert set(LANGUAGES[1:]) <= set(texts), key
    assert "{contact}" not in (phrase("decline", "de", contact="help@example.com") or "x{contact}")
    assert phrase("english_only", "en") is None  # English needs no note


def test_language_folders_hold_translations_and_their_declines(tmp_path: Path) -> None:
    (tmp_path / "returns.md").write_text(
        "## How long do I have to return an item? {#returns-window}\nWithin 30 days.\n\n"
        "## How do I get a label? {#returns-label}\nIn your account.\n",
        encoding="utf-8",
    )
    (tmp_path / "decline_examples.md").write_text("- Do you sell bikes?\n", encoding="utf-8")
    de = tmp_path / "de"
    de.mkdir()
    (de / "returns.md").write_text(
        "## Wie lange habe ich Zeit? {#returns-window}\nInnerhalb von 30 Tagen.\n\n"
        "Auch gefragt:\n- wie lange kann ich zurückschicken\n\n"
        "## Gibt es Gutscheine? {#no-such-entry}\nJa.\n",
        encoding="utf-8",
    )
    (de / "decline_examples.md").write_text("- Verkauft ihr Fahrräder?\n", encoding="utf-8")

    parsed = parse_sources([tmp_path])

    assert [e.id for e in parsed.entries] == ["returns-window", "returns-label"]
    assert [e.id for e in parsed.translations["de"]] == ["returns-window"]
    assert parsed.translations["de"][0].questions == ("wie lange kann ich zurückschicken",)
    assert parsed.declines == ["Do you sell bikes?"]
    assert parsed.foreign_declines == {"de": ["Verkauft ihr Fahrräder?"]}
    assert parsed.untranslated("de") == ["returns-label"]
    [error] = parsed.errors
    assert "no-such-entry" in error.message and error.path.endswith("de/returns.md")


def test_an_unsure_message_that_is_unlikely_english_takes_the_guess() -> None:
    italian_or_spanish = Detected(None, 0.45, guess="it", english=0.05)
    assert choose_language(italian_or_spanish, None, None, LANGUAGES) == "it"
    assert choose_language(italian_or_spanish, "es", None, LANGUAGES) == "es"  # the talk's
    maybe_english = Detected(None, 0.34, guess="it", english=0.32)
    assert choose_language(maybe_english, None, None, LANGUAGES) == "en"
