"""The order answers' wording, in each language the chat serves: every fact from the
database, nothing invented; only the sentences around the facts change.

Dates are numeric outside English (no month names to translate); order statuses and
tracking events have their names in each language, and an unknown one is shown as stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from service.orders.extract import Topic
from service.orders.repository import OrderFacts


@dataclass(frozen=True)
class Wording:
    date: str  # strftime pattern
    time: str
    placed: str  # {n} {d} {status}
    carrier: str  # {c} {t}
    latest: str  # {s} {where} {when}
    where: str  # {loc}
    delivered: str  # {d}
    expected: str  # {d}
    items: str  # {items} {total} {cur}
    nothing: str
    returned: str
    once: str  # {days}
    until: str  # {d} {days}
    ended: str  # {days} {d}
    t_returns: str  # {n} {ret}
    t_items: str  # {n} {items}
    t_carrier: str  # {n} {c} {t}
    t_no_carrier: str  # {n}
    t_delivered: str  # {n} {d}
    t_expected: str  # {n} {d}
    statuses: dict[str, str]


EN = Wording(
    "%d %b %Y",
    "%d %b %Y, %H:%M",
    "Order {n} (placed {d}) is {status}.",
    "Carrier: {c}, tracking number {t}.",
    "Latest tracking update: {s}{where} on {when}.",
    " in {loc}",
    "Delivered on {d}.",
    "Expected delivery: {d}.",
    "Items: {items} ({total} {cur}).",
    "There is nothing to return for this order.",
    "This order has already been returned.",
    "Once delivered, you can return unworn items within {days} days.",
    "You can return unworn items until {d} ({days} days).",
    "The {days}-day return window ended on {d}.",
    "Order {n}: {ret}",
    "Order {n} contains {items}.",
    "Order {n} ships with {c}, tracking number {t}.",
    "Order {n} has not been handed to a carrier yet.",
    "Order {n} was delivered on {d}.",
    "Order {n} is expected on {d}.",
    {},
)

WORDINGS: dict[str, Wording] = {
    "en": EN,
    "de": Wording(
        "%d.%m.%Y",
        "%d.%m.%Y, %H:%M",
        "Bestellung {n} (bestellt am {d}): {status}.",
        "Versand mit {c}, Sendungsnummer {t}.",
        "Letzter Stand der Sendungsverfolgung: {s}{where} am {when}.",
        " in {loc}",
        "Zugestellt am {d}.",
        "Voraussichtliche Lieferung: {d}.",
        "Artikel: {items} ({total} {cur}).",
        "Bei dieser Bestellung gibt es nichts zurückzugeben.",
        "Diese Bestellung wurde bereits zurückgeschickt.",
        "Nach der Lieferung kannst du ungetragene Artikel innerhalb von {days} Tagen zurückgeben.",
        "Du kannst ungetragene Artikel bis zum {d} zurückgeben ({days} Tage).",
        "Die Rückgabefrist von {days} Tagen ist am {d} abgelaufen.",
        "Bestellung {n}: {ret}",
        "Bestellung {n} enthält {items}.",
        "Bestellung {n} wird mit {c} verschickt, Sendungsnummer {t}.",
        "Bestellung {n} wurde noch keinem Versanddienstleister übergeben.",
        "Bestellung {n} wurde am {d} zugestellt.",
        "Bestellung {n} kommt voraussichtlich am {d} an.",
        {
            "paid": "bezahlt",
            "packed": "verpackt",
            "shipped": "versandt",
            "in_transit": "unterwegs",
            "out_for_delivery": "in der Zustellung",
            "delivered": "zugestellt",
            "cancelled": "storniert",
            "refunded": "erstattet",
            "returned": "zurückgeschickt",
        },
    ),
    "fr": Wording(
        "%d/%m/%Y",
        "%d/%m/%Y à %H:%M",
        "Commande {n} (passée le {d}) : {status}.",
        "Transporteur : {c}, numéro de suivi {t}.",
        "Dernier suivi : {s}{where} le {when}.",
        " à {loc}",
        "Livrée le {d}.",
        "Livraison prévue : {d}.",
        "Articles : {items} ({total} {cur}).",
        "Il n'y a rien à retourner pour cette commande.",
        "Cette commande a déjà été retournée.",
        "Après la livraison, vous pouvez retourner les articles non portés sous {days} jours.",
        "Vous pouvez retourner les articles non portés jusqu'au {d} ({days} jours).",
        "Le délai de retour de {days} jours a pris fin le {d}.",
        "Commande {n} : {ret}",
        "La commande {n} contient {items}.",
        "La commande {n} est expédiée avec {c}, numéro de suivi {t}.",
        "La commande {n} n'a pas encore été remise à un transporteur.",
        "La commande {n} a été livrée le {d}.",
        "La commande {n} est attendue le {d}.",
        {
            "paid": "payée",
            "packed": "emballée",
            "shipped": "expédiée",
            "in_transit": "en transit",
            "out_for_delivery": "en cours de livraison",
            "delivered": "livrée",
            "cancelled": "annulée",
            "refunded": "remboursée",
            "returned": "retournée",
        },
    ),
    "es": Wording(
        "%d/%m/%Y",
        "%d/%m/%Y, %H:%M",
        "Pedido {n} (realizado el {d}): {status}.",
        "Transportista: {c}, número de seguimiento {t}.",
        "Último seguimiento: {s}{where} el {when}.",
        " en {loc}",
        "Entregado el {d}.",
        "Entrega prevista: {d}.",
        "Artículos: {items} ({total} {cur}).",
        "No hay nada que devolver en este pedido.",
        "Este pedido ya se ha devuelto.",
        "Una vez entregado, puedes devolver los artículos sin usar en {days} días.",
        "Puedes devolver los artículos sin usar hasta el {d} ({days} días).",
        "El plazo de devolución de {days} días terminó el {d}.",
        "Pedido {n}: {ret}",
        "El pedido {n} contiene {items}.",
        "El pedido {n} se envía con {c}, número de seguimiento {t}.",
        "El pedido {n} aún no se ha entregado a un transportista.",
        "El pedido {n} se entregó el {d}.",
        "El pedido {n} está previsto para el {d}.",
        {
            "paid": "pagado",
            "packed": "empaquetado",
            "shipped": "enviado",
            "in_transit": "en tránsito",
            "out_for_delivery": "en reparto",
            "delivered": "entregado",
            "cancelled": "cancelado",
            "refunded": "reembolsado",
            "returned": "devuelto",
        },
    ),
    "it": Wording(
        "%d/%m/%Y",
        "%d/%m/%Y, %H:%M",
        "Ordine {n} (effettuato il {d}): {status}.",
        "Corriere: {c}, numero di tracciamento {t}.",
        "Ultimo aggiornamento: {s}{where} il {when}.",
        " a {loc}",
        "Consegnato il {d}.",
        "Consegna prevista: {d}.",
        "Articoli: {items} ({total} {cur}).",
        "Per questo ordine non c'è nulla da restituire.",
        "Questo ordine è già stato restituito.",
        "Dopo la consegna puoi restituire gli articoli non indossati entro {days} giorni.",
        "Puoi restituire gli articoli non indossati fino al {d} ({days} giorni).",
        "Il periodo di reso di {days} giorni è terminato il {d}.",
        "Ordine {n}: {ret}",
        "L'ordine {n} contiene {items}.",
        "L'ordine {n} viaggia con {c}, numero di tracciamento {t}.",
        "L'ordine {n} non è ancora stato affidato a un corriere.",
        "L'ordine {n} è stato consegnato il {d}.",
        "L'ordine {n} è previsto per il {d}.",
        {
            "paid": "pagato",
            "packed": "imballato",
            "shipped": "spedito",
            "in_transit": "in transito",
            "out_for_delivery": "in consegna",
            "delivered": "consegnato",
            "cancelled": "annullato",
            "refunded": "rimborsato",
            "returned": "restituito",
        },
    ),
    "nl": Wording(
        "%d-%m-%Y",
        "%d-%m-%Y, %H:%M",
        "Bestelling {n} (geplaatst op {d}): {status}.",
        "Vervoerder: {c}, trackingnummer {t}.",
        "Laatste trackingupdate: {s}{where} op {when}.",
        " in {loc}",
        "Bezorgd op {d}.",
        "Verwachte levering: {d}.",
        "Artikelen: {items} ({total} {cur}).",
        "Er valt voor deze bestelling niets te retourneren.",
        "Deze bestelling is al geretourneerd.",
        "Na de levering kun je ongedragen artikelen binnen {days} dagen retourneren.",
        "Je kunt ongedragen artikelen tot {d} retourneren ({days} dagen).",
        "De retourtermijn van {days} dagen is op {d} verlopen.",
        "Bestelling {n}: {ret}",
        "Bestelling {n} bevat {items}.",
        "Bestelling {n} wordt verstuurd met {c}, trackingnummer {t}.",
        "Bestelling {n} is nog niet aan een vervoerder overgedragen.",
        "Bestelling {n} is bezorgd op {d}.",
        "Bestelling {n} wordt verwacht op {d}.",
        {
            "paid": "betaald",
            "packed": "ingepakt",
            "shipped": "verzonden",
            "in_transit": "onderweg",
            "out_for_delivery": "wordt bezorgd",
            "delivered": "bezorgd",
            "cancelled": "geannuleerd",
            "refunded": "terugbetaald",
            "returned": "geretourneerd",
        },
    ),
}


def _w(lang: str) -> Wording:
    return WORDINGS.get(lang, EN)


def _status(w: Wording, status: str) -> str:
    return w.statuses.get(status, status.replace("_", " "))


def _day(w: Wording, value: date | datetime) -> str:
    return f"{value:{w.date}}"


def _items(facts: OrderFacts) -> str:
    return ", ".join(f"{i.quantity} × {i.name}" for i in facts.items)


def describe_order(
    facts: OrderFacts, returns_window_days: int, today: datetime, lang: str = "en"
) -> str:
    """The templated answer: every fact from the database, nothing invented."""
    w = _w(lang)
    lines = [
        w.placed.format(
            n=facts.order_number, d=_day(w, facts.placed_at), status=_status(w, facts.status)
        )
    ]
    if facts.carrier and facts.tracking_number:
        lines.append(w.carrier.format(c=facts.carrier, t=facts.tracking_number))
    if facts.events:
        last = facts.events[-1]
        where = w.where.format(loc=last.location) if last.location else ""
        when = f"{last.occurred_at:{w.time}}"
        lines.append(w.latest.format(s=_status(w, last.status), where=where, when=when))
    if facts.delivered_at is not None:
        lines.append(w.delivered.format(d=_day(w, facts.delivered_at)))
    elif facts.expected_delivery is not None and facts.status not in (
        "cancelled",
        "refunded",
        "returned",
    ):
        lines.append(w.expected.format(d=_day(w, facts.expected_delivery)))
    total = f"{facts.total_cents / 100:.2f}"
    lines.append(w.items.format(items=_items(facts), total=total, cur=facts.currency))
    lines.append(return_eligibility(facts, returns_window_days, today, lang))
    return " ".join(lines)


def describe_topic(
    facts: OrderFacts, topic: Topic, window_days: int, today: datetime, lang: str = "en"
) -> str:
    """A follow-up's answer from the verified order's facts alone."""
    w, n = _w(lang), facts.order_number
    if topic == "returns":
        return w.t_returns.format(n=n, ret=return_eligibility(facts, window_days, today, lang))
    if topic == "items":
        return w.t_items.format(n=n, items=_items(facts))
    if topic == "carrier":
        if facts.carrier and facts.tracking_number:
            return w.t_carrier.format(n=n, c=facts.carrier, t=facts.tracking_number)
        return w.t_no_carrier.format(n=n)
    if topic == "arrival":
        if facts.delivered_at is not None:
            return w.t_delivered.format(n=n, d=_day(w, facts.delivered_at))
        if facts.expected_delivery is not None and facts.status not in ("cancelled", "refunded"):
            return w.t_expected.format(n=n, d=_day(w, facts.expected_delivery))
    return describe_order(facts, window_days, today, lang)


def return_eligibility(
    facts: OrderFacts, window_days: int, today: datetime, lang: str = "en"
) -> str:
    w = _w(lang)
    if facts.status in ("cancelled", "refunded"):
        return w.nothing
    if facts.status == "returned":
        return w.returned
    if facts.delivered_at is None:
        return w.once.format(days=window_days)
    last_day = (facts.delivered_at + timedelta(days=window_days)).date()
    if today.date() <= last_day:
        return w.until.format(d=_day(w, last_day), days=window_days)
    return w.ended.format(days=window_days, d=_day(w, last_day))
