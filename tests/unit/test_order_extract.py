from __future__ import annotations

import pytest

from service.orders.extract import (
    find_email,
    find_order_numbers,
    find_postal_code,
    mentions_orders,
)


@pytest.mark.parametrize(
    "text",
    [
        "where is my order NW-100234?",
        "NW100234",
        "nw 100234 please",
        "status of #100234",
        "order 100234",
        "Order no. 100234 hasn't arrived",
        "my order number is 100234",
        "Bestellung 100234",
        "ＮＷ－１００２３４",  # full-width forms
        "NW-100\u200b234".replace("\u200b", ""),
        "where is my order 100234",  # bare number, but the message is about an order
    ],
)
def test_accepted_forms_normalise(text: str) -> None:
    assert find_order_numbers(text) == ["NW-100234"]


@pytest.mark.parametrize(
    "text",
    [
        "10115 Berlin",  # a postal code, no order talk
        "order 1002345",  # seven digits
        "NW-12345",  # five digits
        "call +49 30 555 0190",
        "my postcode is 100234 and I want to track my order",  # stated as a postcode
    ],
)
def test_not_order_numbers(text: str) -> None:
    assert find_order_numbers(text) == []


def test_zero_width_characters_are_ignored() -> None:
    assert find_order_numbers("NW-100\u200b234") == ["NW-100234"]


def test_several_numbers_are_kept_in_order_without_duplicates() -> None:
    assert find_order_numbers("orders #100234 and NW-100235, again #100234") == [
        "NW-100234",
        "NW-100235",
    ]


def test_email_and_postal_code() -> None:
    assert find_email("it's Anna.Berg@Example.COM thanks") == "anna.berg@example.com"
    assert find_email("no email here @ all") is None
    assert find_postal_code("my postcode is SW1A 1AA") == "SW1A1AA"
    assert find_postal_code("PLZ: 10115") == "10115"
    assert mentions_orders("Where is my parcel?") and not mentions_orders("return policy")
