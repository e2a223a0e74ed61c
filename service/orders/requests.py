"""Requests about a verified order: what the customer asked (read from their words), whether
the order allows it now, and the request the customer is asked to confirm.

Three kinds: cancel (while the order's status allows it, requests.cancel_statuses),
return (items delivered within the returns window the FAQ states), a new delivery
address (before the order ships, requests.address_statuses). A request is only ever a
message to the shop (desk.py delivers it); faqbot changes no order itself."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from service.config import RequestSettings
from service.orders.extract import clean_text
from service.orders.facts import OrderFacts

Kind = Literal["cancel", "return", "address"]

# Words that ask for something, in the six languages; "can I return it?" asks whether,
# and stays an order question (extract.follow_up_topic).
_CANCEL = re.compile(
    r"(?i)\b(cancel|stornier\w*|storno|annul\w*|cancela\w*|annulla\w*|annuleer\w*)\b"
)
_RETURN = re.compile(
    r"(?i)\b(return|send (it|them|\w+) back|zurückschick\w*|zurücksend\w*|retour\w*|"
    r"rücksendung|retourner|renvoyer|devolver|devolución|restituir\w*|reso|terugstur\w*)\b"
)
_ADDRESS = re.compile(
    r"(?i)\b(address|adresse|lieferadresse|anschrift|dirección|direccion|indirizzo|adres)\b"
)
_CHANGE = re.compile(
    r"(?i)\b(change|update|new|different|wrong|ändern|änder\w*|neue|changer|nouvelle|"
    r"cambiar|nueva|cambiare|nuovo|wijzig\w*|nieuw\w*)\b"
)
_WANT = re.compile(
    r"(?i)\b(i want|i'd like|i would like|please|i need|möchte|will|bitte|je veux|"
    r"je voudrais|quiero|quisiera|vorrei|voglio|ik wil|graag)\b|^\s*(return|cancel)\b"
)
_ADDRESS_VALUE = re.compile(r"(?i)\b(?:to|an|auf|à|a|naar|nach)(?:\s*:\s*|\s+)(.{8,200})$")
_YES = re.compile(r"(?i)^\s*(yes|yep|yeah|ok|okay|sure|ja|jawohl|oui|sí|si|sì|confirm\w*)\b")
_NO = re.compile(r"(?i)^\s*(no|nope|nein|non|nee|cancel that|never ?mind)\b")


@dataclass(frozen=True)
class OrderRequest:
    kind: Kind
    order_number: str
    items: tuple[str, ...] = ()  # a return's items (all of them when none was named)
    address: str | None = None  # the new delivery address, as the customer wrote it

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "order_number": self.order_number,
            "items": list(self.items),
            "address": self.address,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OrderRequest:
        kind = data.get("kind")
        if kind not in ("cancel", "return", "address"):
            raise ValueError(f"not a request kind: {kind!r}")
        return cls(
            kind, str(data["order_number"]), tuple(data.get("items") or ()), data.get("address")
        )


def asked_kind(message: str) -> Kind | None:
    """The request a message makes, if it makes one."""
    text = clean_text(message)
    if _ADDRESS.search(text) and _CHANGE.search(text):
        return "address"
    if _CANCEL.search(text):
        return "cancel"
    if _RETURN.search(text) and _WANT.search(text):
        return "return"
    return None


def answer_to_confirm(message: str) -> bool | None:
    """Yes, no, or neither (a new question: the request waits no longer)."""
    text = clean_text(message)
    if _NO.search(text):
        return False
    if _YES.search(text):
        return True
    return None


def request_for(kind: Kind, message: str, facts: OrderFacts) -> OrderRequest:
    """The request with what the message names: the items to return (those of the order
    whose name it mentions, else all), the new address (what follows "to")."""
    text = clean_text(message)
    if kind == "return":
        named = tuple(i.name for i in facts.items if _mentions(text, i.name))
        return OrderRequest(kind, facts.order_number, named or tuple(i.name for i in facts.items))
    if kind == "address":
        found = _ADDRESS_VALUE.search(text)
        return OrderRequest(
            kind, facts.order_number, address=found.group(1).strip() if found else None
        )
    return OrderRequest(kind, facts.order_number)


def _mentions(text: str, item: str) -> bool:
    """An item named by one of its words ("the boots" for "Tatra hiking boots")."""
    words = [w for w in re.findall(r"\w{4,}", item.lower()) if w not in {"with", "size"}]
    lowered = text.lower()
    return any(
        re.search(rf"\b{re.escape(w[:-1] if w.endswith('s') else w)}", lowered) for w in words
    )


@dataclass(frozen=True)
class Refusal:
    """Why the order does not allow the request now: a text key of the catalogue and its
    values."""

    key: str
    values: dict[str, str]


def refusal(
    request: OrderRequest,
    facts: OrderFacts,
    settings: RequestSettings,
    window_days: int,
    now: datetime,
) -> Refusal | None:
    n, status = facts.order_number, facts.status
    if request.kind == "cancel" and status not in settings.cancel_statuses:
        return Refusal("request_cannot_cancel", {"n": n, "status": status.replace("_", " ")})
    if request.kind == "address":
        if status not in settings.address_statuses:
            return Refusal("request_cannot_readdress", {"n": n})
        if not request.address:
            return Refusal("request_needs_address", {"n": n})
    if request.kind == "return":
        if facts.delivered_at is None or status in ("cancelled", "refunded", "returned"):
            return Refusal("request_cannot_return_yet", {"n": n})
        last = facts.delivered_at + timedelta(days=window_days)
        if now > last:
            return Refusal(
                "request_return_window_ended",
                {"n": n, "days": str(window_days), "d": f"{last:%Y-%m-%d}"},
            )
    return None
