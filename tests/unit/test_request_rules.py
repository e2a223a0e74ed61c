"""What a message asks of an order, and whether the order allows it now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.config import RequestSettings
from service.orders.facts import Item, OrderFacts
from service.orders.requests import (
    OrderRequest,
    answer_to_confirm,
    asked_kind,
    refusal,
    request_for,
)

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)


def facts(status: str, delivered_days_ago: int | None = None) -> OrderFacts:
    delivered = NOW - timedelta(days=delivered_days_ago) if delivered_days_ago is not None else None
    return OrderFacts(
        "NW-200002",
        status,
        NOW - timedelta(days=10),
        None,
        delivered,
        24800,
        "EUR",
        (Item("Tatra hiking boots", 1, 16900), Item("Kiruna fleece", 1, 7900)),
    )


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("Please cancel my order", "cancel"),
        ("Bitte storniere die Bestellung", "cancel"),
        ("je veux annuler ma commande", "cancel"),
        ("I want to return the boots", "return"),
        ("return the fleece please", "return"),
        ("Ich möchte die Jacke zurückschicken", "return"),
        ("change the delivery address to 221b Baker Street", "address"),
        ("Bitte ändere die Lieferadresse auf Seestraße 7", "address"),
        ("can I return it?", None),  # a question about the order, answered as one
        ("what is your returns policy?", None),
        ("where is my order?", None),
    ],
)
def test_the_request_a_message_makes(message: str, kind: str | None) -> None:
    assert asked_kind(message) == kind


def test_yes_and_no_in_six_languages_and_anything_else_is_neither() -> None:
    for yes in ("Yes", "ja", "Oui", "Sí", "sì", "yes please", "ok"):
        assert answer_to_confirm(yes) is True, yes
    for no in ("No", "nein", "Non", "nee", "no thanks"):
        assert answer_to_confirm(no) is False, no
    assert answer_to_confirm("how long does shipping take?") is None


def test_a_return_names_its_items_else_all_and_an_address_what_follows_to() -> None:
    f = facts("delivered", 3)
    assert request_for("return", "return the boots", f).items == ("Tatra hiking boots",)
    assert request_for("return", "I want to return it", f).items == (
        "Tatra hiking boots",
        "Kiruna fleece",
    )
    moved = request_for("address", "change my address to Seestraße 7, 8002 Zürich", f)
    assert moved.address == "Seestraße 7, 8002 Zürich"
    assert request_for("address", "change my address", f).address is None
    assert OrderRequest.from_dict(moved.as_dict()) == moved
    with pytest.raises(ValueError):
        OrderRequest.from_dict({"kind": "refund", "order_number": "x"})


def test_the_order_decides_what_may_be_asked() -> None:
    rules = RequestSettings()
    cancel = OrderRequest("cancel", "NW-200002")
    assert refusal(cancel, facts("paid"), rules, 30, NOW) is None
    shipped = refusal(cancel, facts("shipped"), rules, 30, NOW)
    assert shipped is not None and shipped.key == "request_cannot_cancel"
    ret = OrderRequest("return", "NW-200002", ("Tatra hiking boots",))
    assert refusal(ret, facts("delivered", 29), rules, 30, NOW) is None
    late = refusal(ret, facts("delivered", 31), rules, 30, NOW)
    assert late is not None and late.values["days"] == "30"
    early = refusal(ret, facts("shipped"), rules, 30, NOW)
    assert early is not None and early.key == "request_cannot_return_yet"
    move = OrderRequest("address", "NW-200002", address="Seestraße 7")
    assert refusal(move, facts("processing"), rules, 30, NOW) is None
    gone = refusal(move, facts("in_transit"), rules, 30, NOW)
    assert gone is not None and gone.key == "request_cannot_readdress"
    blank = refusal(OrderRequest("address", "NW-200002"), facts("paid"), rules, 30, NOW)
    assert blank is not None and blank.key == "request_needs_address"
