"""One masking rule for every stored text: what it hides, and what it leaves readable
(order numbers, prices, dates, the shop's own contact)."""

from __future__ import annotations

import pytest

from service.privacy import mask_pii, public_contacts

MASKED = [
    ("write to anna.b@mail.de", "anna.b@mail.de"),
    ("call me on +49 176 1234 5678", "1234 5678"),
    ("or 030 5550190 after six", "5550190"),
    ("my number is 0049 30 5550190", "5550190"),
    ("(555) 123-4567 in the US", "123-4567"),
    ("postcode 10115 please", "10115"),
    ("I live in 10115 Berlin", "10115"),
    ("1012 AB Amsterdam", "1012 AB"),
    ("London NW1 6XE", "NW1 6XE"),
    ("Seestraße 12, second floor", "Seestraße 12"),
    ("221 Baker Street", "221 Baker Street"),
    ("12 rue de Rivoli", "rue de Rivoli"),
]
KEPT = [
    "order NW-100234 placed on 02.12.2026",
    "it costs €4.95, free over 75 euros",
    "within 30 days, took 0.0123456789 s",
    "tracking 00340434161094042557",
    "the item costs 12345 Euro",
]


@pytest.mark.parametrize(("text", "secret"), MASKED)
def test_personal_data_is_masked(text: str, secret: str) -> None:
    assert secret not in mask_pii(text)


@pytest.mark.parametrize("text", KEPT)
def test_what_answers_need_stays(text: str) -> None:
    assert mask_pii(text) == text


def test_the_shops_contact_is_kept_and_nothing_else() -> None:
    contact = "our team at hello@northwind-outdoor.example or +49 30 555 0190 (Mon-Fri)"
    public = public_contacts(contact)
    assert public == {"hello@northwind-outdoor.example", "+49 30 555 0190"}
    text = "Write to hello@northwind-outdoor.example, +49 30 555 0190; me: +49 176 1234 5678"
    masked = mask_pii(text, public)
    assert "hello@northwind-outdoor.example" in masked and "+49 30 555 0190" in masked
    assert "1234 5678" not in masked
    assert mask_pii(masked, public) == masked  # masking twice changes nothing
