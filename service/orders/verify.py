"""Ownership, checked the same way for every order source: the email address or postal
code the customer gave against the order's, in constant time."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from service.orders.extract import normalise_postal_code

if TYPE_CHECKING:
    from service.orders.source import OrderRecord

_NOBODY = "\x00"


def is_owner(record: OrderRecord | None, email: str | None, postal_code: str | None) -> bool:
    """A missing order runs the same comparison against a placeholder, so the answer and
    its timing do not tell whether the order exists. An order without an email (or a
    postal code) on record cannot be proved with it."""
    real_email = (record.email if record else None) or _NOBODY
    real_code = (record.postal_code if record else None) or _NOBODY
    ok_email = email is not None and hmac.compare_digest(
        email.strip().lower().encode(), real_email.strip().lower().encode()
    )
    ok_code = postal_code is not None and hmac.compare_digest(
        normalise_postal_code(postal_code).encode(), normalise_postal_code(real_code).encode()
    )
    return record is not None and (ok_email or ok_code)
