"""The dialogue policy (service/chat/dialogue.py): what a message asks before any FAQ
answer, and which reading of a follow-up retrieval answers."""

from __future__ import annotations

import pytest

from service.chat.dialogue import choose_reading, read
from service.chat.extractive import extract, sentences, slot_sentences
from service.retrieval.retriever import Hit, SearchResult


@pytest.mark.parametrize(
    ("message", "act", "lang"),
    [
        ("thanks!", "thanks", "en"),
        ("ok thank you so much", "thanks", "en"),
        ("Great, thanks", "thanks", "en"),
        ("thx", "thanks", "en"),
        ("Danke!", "thanks", "de"),
        ("merci beaucoup", "thanks", "fr"),
        ("¡Muchas gracias!", "thanks", "es"),
        ("grazie mille", "thanks", "it"),
        ("bedankt", "thanks", "nl"),
        ("hi", "greeting", "en"),
        ("Hello there!", "greeting", "en"),
        ("good morning", "greeting", "en"),
        ("Hallo", "greeting", "de"),
        ("bonjour", "greeting", "fr"),
        ("hola", "greeting", "es"),
        ("ciao", "greeting", "it"),
        ("I want to talk to a person", "handoff", "en"),
        ("can I speak to a human please", "handoff", "en"),
        ("agent", "handoff", "en"),
        ("real person please", "handoff", "en"),
        ("Ich möchte mit einem Mitarbeiter sprechen", "handoff", "de"),
        ("je veux parler à un conseiller", "handoff", "fr"),
        ("quiero hablar con una persona", "handoff", "es"),
        ("vorrei parlare con un operatore", "handoff", "it"),
        ("ik wil met een medewerker praten", "handoff", "nl"),
        ("Where is my order?", "order_status", "en"),
        ("where's my parcel", "order_status", "en"),
        ("my package hasn't arrived", "order_status", "en"),
        ("Wo ist meine Bestellung?", "order_status", "de"),
        ("où est ma commande", "order_status", "fr"),
        ("¿dónde está mi pedido?", "order_status", "es"),
        ("waar is mijn bestelling", "order_status", "nl"),
    ],
)
def test_small_talk_requests_and_order_questions_are_recognised(
    message: str, act: str, lang: str
) -> None:
    reading = read(message)
    assert (reading.act, reading.lang) == (act, lang)


@pytest.mark.parametrize(
    "message",
    [
        "How do I place an order?",
        "thanks, and how do I return my boots?",
        "Do you ship to Norway?",
        "good",
        "voucher",
        "how do I cancel my order",
        "Can I change the delivery address of my order?",
        "what does your customer service team do with my data",
        "",
    ],
)
def test_questions_stay_questions(message: str) -> None:
    assert read(message).act == "question"


def _hit(entry: str, score: float) -> Hit:
    return Hit(entry, entry, "", "", entry, f"{entry} answer.", score, score, score, 0.0, 0.0)


def _result(entries: list[tuple[str, float]], confidence: float, threshold: float = 0.4):  # type: ignore[no-untyped-def]
    hits = [_hit(e, s) for e, s in entries]
    return SearchResult(
        query="q",
        hits=hits,
        confidence=confidence,
        abstain=confidence < threshold,
        threshold=threshold,
        version="v1",
        margin=hits[0].score - hits[1].score if len(hits) > 1 else 0.0,
    )


def _never(_: frozenset[str] = frozenset()) -> SearchResult:
    raise AssertionError("the onward search is not needed here")


def test_a_follow_up_that_retrieves_better_with_the_previous_question_borrows_it() -> None:
    alone = _result([("shipping-costs", 0.5), ("gift-cards", 0.4)], 0.2)
    combined = _result([("shipping-costs", 1.2), ("shipping-countries", 0.6)], 0.8)
    chosen, follow = choose_reading(alone, combined, "shipping-countries", _never)
    assert chosen is combined and follow


def test_a_new_question_that_stands_alone_keeps_its_own_reading() -> None:
    alone = _result([("gift-cards", 1.1), ("returns-window", 0.3)], 0.7)
    combined = _result([("gift-cards", 1.0), ("returns-window", 0.8)], 0.72)
    chosen, follow = choose_reading(alone, combined, "returns-window", _never)
    assert chosen is alone and not follow


def test_the_entry_just_given_is_not_given_again_when_the_message_points_elsewhere() -> None:
    # "Do you ship to Norway?" answered with the countries; "and how much does that cost?"
    alone = _result([("shipping-costs", 0.6), ("gift-cards", 0.5)], 0.3)
    combined = _result([("shipping-countries", 1.3), ("shipping-costs", 1.1)], 0.8)
    onward = _result([("shipping-costs", 1.1), ("gift-cards", 0.2)], 0.6)
    chosen, follow = choose_reading(alone, combined, "shipping-countries", lambda _: onward)
    assert chosen is onward and follow


def test_a_new_topic_with_no_other_answer_declines_instead_of_repeating() -> None:
    # "voucher" after the returns window: alone too weak, nothing but returns combined
    alone = _result([("gift-cards", 0.5), ("returns-window", 0.2)], 0.3)
    combined = _result([("returns-window", 1.2), ("gift-cards", 0.4)], 0.7)
    onward = _result([("gift-cards", 0.4)], 0.2)
    chosen, follow = choose_reading(alone, combined, "returns-window", lambda _: onward)
    assert chosen is alone and chosen.abstain and not follow


def test_the_same_entry_asked_again_is_answered_again() -> None:
    alone = _result([("returns-window", 0.9), ("returns-label", 0.4)], 0.6)
    combined = _result([("returns-window", 1.4), ("returns-label", 0.4)], 0.9)
    chosen, _ = choose_reading(alone, combined, "returns-window", _never)
    assert chosen is alone


ANSWER = (
    "We ship to 30 countries in Europe. Standard shipping is free on orders over €75. "
    "Shipping to Germany costs €4.95 and takes 2-4 days. Express delivery costs €14.95. "
    "Parcels to Norway and Switzerland may be charged customs duties."
)


def test_the_sentence_holding_the_slot_asked_for_is_found() -> None:
    parts = sentences(ANSWER)
    assert slot_sentences("how much is shipping to germany", parts) == {2}
    assert slot_sentences("do you ship to norway?", parts) == {4}
    assert slot_sentences("how much is shipping", parts) == set()


def test_an_extract_never_drops_the_fact_asked_for() -> None:
    # An embedder that prefers the "free shipping" and "express" sentences.
    def embed(texts: list[str]):  # type: ignore[no-untyped-def]
        import numpy as np

        rows = []
        for t in texts:
            v = np.zeros(3)
            v[0] = 1.0 if ("free" in t or "Express" in t or t.startswith("how")) else 0.0
            v[1] = 1.0
            rows.append(v / np.linalg.norm(v))
        return np.array(rows)

    got = extract("how much is shipping to germany", ANSWER, embed, max_sentences=3)
    assert "Germany costs €4.95" in got
