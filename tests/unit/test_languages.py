"""Which language a message is in, and translations in the FAQ sources."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from service.orders.repository import Item, OrderFacts, TrackingEvent
from service.orders.wording import WORDINGS, describe_order, describe_topic
from service.retrieval.language import (
    LANGUAGES,
    Detected,
    LanguageDetector,
    choose_language,
    parse_accept_language,
)
from service.sources.parse import parse_sources
from service.texts import catalogue, phrase


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
    for key in catalogue("en")["chat"]:
        assert all(catalogue(lang)["chat"].get(key) for lang in LANGUAGES[1:]), key
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


def _facts(status: str, delivered: bool) -> OrderFacts:
    placed = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    return OrderFacts(
        order_number="NW-200001",
        status=status,
        placed_at=placed,
        expected_delivery=date(2026, 11, 29),
        delivered_at=placed + timedelta(days=3) if delivered else None,
        total_cents=18900,
        currency="EUR",
        items=(Item(name="Fjord rain jacket", quantity=1, unit_price_cents=18900),),
        carrier="DHL",
        tracking_number="003404341111",
        events=(TrackingEvent("in_transit", placed + timedelta(days=1), "Leipzig"),),
    )


@pytest.mark.parametrize("lang", sorted(WORDINGS))
def test_order_answers_carry_every_fact_in_every_language(lang: str) -> None:
    today = datetime(2026, 11, 27, tzinfo=UTC)
    for facts in (_facts("shipped", False), _facts("delivered", True)):
        text = describe_order(facts, 30, today, lang)
        for fact in (
            "NW-200001",
            "DHL",
            "003404341111",
            "Fjord rain jacket",
            "189.00 EUR",
            "Leipzig",
        ):
            assert fact in text, (lang, fact, text)
        assert "{" not in text and "}" not in text
        for topic in ("returns", "items", "carrier", "arrival", "status"):
            assert "NW-200001" in describe_topic(facts, topic, 30, today, lang)  # type: ignore[arg-type]
    delivered = describe_order(_facts("delivered", True), 30, today, lang)
    assert ("23 Dec 2026" if lang == "en" else "23") in delivered  # the last day to return
    if lang != "en":  # statuses and tracking events in the language too
        shipped = describe_order(_facts("shipped", False), 30, today, lang)
        assert WORDINGS[lang].statuses["in_transit"] in shipped
        assert WORDINGS[lang].statuses["shipped"] in shipped


def test_english_order_wording_is_unchanged() -> None:
    text = describe_order(_facts("shipped", False), 30, datetime(2026, 11, 27, tzinfo=UTC))
    assert text.startswith("Order NW-200001 (placed 20 Nov 2026) is shipped. Carrier: DHL,")
    assert "Latest tracking update: in transit in Leipzig on 21 Nov 2026, 09:30." in text


def test_addresses_and_order_numbers_are_in_no_language(detector: LanguageDetector) -> None:
    assert detector.detect("alice@example.com").lang is None
    assert detector.detect("NW-200001 https://northwind.example/x").lang is None
    assert detector.detect("Wo ist meine Bestellung NW-200001?").lang == "de"
    # two words say too little ("order" and "postcode" are Dutch words too)
    assert detector.detect("order NW-200001 postcode 10115").lang is None
