"""Typos read as the FAQ's own words, and nothing else changed: real words the FAQ does
not use, short words, words with apostrophes, and ties stay as written."""

from __future__ import annotations

import pytest

from service.retrieval.spelling import Speller, english_lexicon, one_edit

FAQ = [
    "How do I reset my password?",
    "How long do I have to return an item? Items can be returned within 30 days.",
    "Do you sell vouchers? Gift vouchers are valid for three years.",
    "Which payment methods do you accept? Visa, PayPal and invoice.",
    "Do you sell e-bikes and bikes?",
]


@pytest.fixture(scope="module")
def speller() -> Speller:
    return Speller.build(FAQ, english_lexicon())


@pytest.mark.parametrize(
    ("typed", "searched"),
    [
        ("forgot my pasword", "forgot my password"),  # a letter missing
        ("how lnog do i hvae to retrun an itme", "how long do i have to return an item"),
        ("paymnet methods", "payment methods"),
        ("vocuhers", "vouchers"),  # two neighbours swapped
        ("returnn", "return"),  # a letter too many
    ],
)
def test_typos_are_searched_as_the_faqs_words(speller: Speller, typed: str, searched: str) -> None:
    assert speller.correct(typed) == searched


@pytest.mark.parametrize(
    "written",
    [
        "My gears are skipping",  # English words the FAQ does not use
        "water soaks into my jacket",
        "do you sell motorbikes",
        "I don't know the item",  # an apostrophe: one word
        "doesnt fit",  # an apostrophe left out
        "auth codes",  # four letters: only a swap counts
        "ebike",  # a prefix, not a typo of "bike"
        "Do you take Visa?",  # nothing mistyped: the text exactly as written
    ],
)
def test_everything_else_stays_as_written(speller: Speller, written: str) -> None:
    assert speller.correct(written) == written


def test_a_tie_between_faq_words_is_left_alone() -> None:
    speller = Speller.build(["cart card"], english_lexicon())
    assert speller.correct("carx") == "carx"  # four letters: not a swap anyway
    speller = Speller.build(["plate place"], english_lexicon())
    assert speller.correct("plabe") == "plabe"  # plate or place: no way to tell


def test_the_faqs_more_frequent_word_wins() -> None:
    speller = Speller.build(["places place place plate"], english_lexicon())
    assert speller.correct("plabe") == "place"


def test_one_edit() -> None:
    assert one_edit("pasword", "password") and one_edit("lnog", "long")
    assert one_edit("retunr", "return") and one_edit("returm", "return")
    assert not one_edit("auth", "auto")  # four letters: a swap only
    assert not one_edit("return", "return") and not one_edit("retrun", "rerun x")
    assert not one_edit("abcdef", "badcef")  # two swaps
