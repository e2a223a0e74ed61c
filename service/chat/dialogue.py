"""What a message asks of the chat before any FAQ answer, and which question it is.

- A greeting or an acknowledgement ("hi", "thanks!", "ok great") gets a short reply of
  its own: re-answering the last question at a customer who said thanks reads as a bot
  that did not listen.
- A request for a person ("talk to a human", "agent", "Mitarbeiter") is offered the
  handoff at once, not the contact entry's text.
- "Where is my order?" without a number starts the order flow (it asks for the number)
  instead of retrieving "How do I place an order?".

These are closed classes of short phrases, so they are recognised by their words, in the
six languages the chat serves; a match also tells the message's language, which a
detector cannot on three words. Everything else is a question for retrieval, and
whether it follows up the previous one is decided by retrieval's scores
(``choose_reading``), not by words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from service.retrieval.retriever import SearchResult

Act = Literal["question", "greeting", "thanks", "handoff", "order_status"]

# Small talk: a message made only of these words, with at least one word that carries
# it ("good" or "you" alone are not small talk). Per act and language: (carrying words,
# words that may come with them).
_SMALL_TALK: dict[str, dict[str, tuple[str, str]]] = {
    "thanks": {
        "en": (
            "thanks thank thx ty thankyou cheers great perfect ok okay k cool awesome nice "
            "brilliant helpful helps bye goodbye understood lovely appreciate alright got",
            "you so much lot a very that it all good super many fine anyway though again",
        ),
        "de": (
            "danke dankeschön dank super toll prima perfekt tschüss verstanden ok okay",
            "vielen alles klar sehr schön",
        ),
        "fr": (
            "merci parfait génial compris super top ok",
            "beaucoup d'accord bien très au revoir",
        ),
        "es": ("gracias perfecto vale genial entendido adiós ok", "muchas mil de acuerdo muy bien"),
        "it": ("grazie perfetto ottimo capito arrivederci ok", "mille va bene tante molto gentile"),
        "nl": ("bedankt dank duidelijk fijn prima super top oké ok doei", "je u wel perfect"),
    },
    "greeting": {
        "en": (
            "hi hello hey hiya morning afternoon evening howdy greetings yo",
            "there good",
        ),
        "de": ("hallo moin servus tag abend morgen", "guten grüß gott"),
        "fr": ("bonjour salut bonsoir coucou", ""),
        "es": ("hola días dias tardes noches", "buenos buenas"),
        "it": ("ciao buongiorno buonasera salve", ""),
        "nl": ("hoi hallo goedemorgen goedemiddag goedenavond hey", "dag"),
    },
}


# Asking for a person, in each language (a part of the message is enough: "can I talk
# to a real person please").
_HANDOFF: dict[str, re.Pattern[str]] = {
    "en": re.compile(
        r"\b(talk|speak|chat|connect me|put me through)\b.{0,30}\b(person|human|agent|someone|"
        r"somebody|people|representative|rep|operator|staff|employee|team member)\b|"
        r"^\W*(a |an )?(human|agent|person|operator|representative|real person|live agent|"
        r"live chat|customer service agent)\W*(please)?\W*$|\b(real|live) (person|human|agent)\b"
    ),
    "de": re.compile(
        r"\b(mit )?(einem|einer) (menschen|mitarbeiter|mitarbeiterin|person|berater|beraterin)"
        r"\b.{0,20}\b(sprechen|reden|chatten)|^\W*(mensch|mitarbeiter|mitarbeiterin|berater)"
        r"\W*(bitte)?\W*$|\b(echten|echter) (menschen|mensch|person|mitarbeiter)\b"
    ),
    "fr": re.compile(
        r"\bparler (à|a|avec) (un|une|quelqu'un)\b.{0,20}|\b(un|une) (humain|conseiller|"
        r"conseillère|agent|opérateur|vraie personne)\b.{0,10}(svp|s'il vous plaît)?\W*$|"
        r"^\W*(humain|conseiller|agent)\W*$"
    ),
    "es": re.compile(
        r"\bhablar con (una|un|alguien)\b|\b(una persona real|un humano|un agente|un asesor|"
        r"un operador)\b|^\W*(humano|agente|asesor|operador)\W*$"
    ),
    "it": re.compile(
        r"\bparlare con (una|un|qualcuno)\b|\b(una persona vera|un operatore|un umano|"
        r"un consulente)\b|^\W*(operatore|umano|consulente)\W*$"
    ),
    "nl": re.compile(
        r"\b(praten|spreken|chatten) met (een|iemand)\b|\b(een (echt )?(mens|medewerker|persoon))"
        r"\b.{0,20}\b(spreken|praten)|^\W*(medewerker|mens)\W*$"
    ),
}

# Where an order is, without its number; an order number in the message goes to the
# order flow anyway (orders/assistant.py).
_ORDER_STATUS: dict[str, re.Pattern[str]] = {
    "en": re.compile(
        r"\bwhere('?s| is| are)? (my|our)\b.{0,15}\b(order|parcel|package|delivery|shipment|"
        r"stuff|items?)\b|\b(track|status of|check on) (my|our)\b.{0,15}\b(order|parcel|"
        r"package|delivery|shipment)\b|^\W*(my )?(order|parcel|package)( status)?\W*$|"
        r"\b(order|parcel|package|delivery)\b.{0,25}\b(not|n't|never) (arrived|come|"
        r"received|here)\b|\bhas(n'?t| not) (arrived|come)\b"
    ),
    "de": re.compile(
        r"\bwo (ist|bleibt) (meine|mein)\b.{0,15}\b(bestellung|paket|lieferung)\b|"
        r"\b(bestellung|paket|lieferung)\b.{0,25}\b(nicht angekommen|noch nicht da)\b|"
        r"\bstatus meiner bestellung\b|\bsendungsverfolgung\b"
    ),
    "fr": re.compile(
        r"\b(où|ou) (est|en est) (ma|mon)\b.{0,15}\b(commande|colis|livraison)\b|"
        r"\bsuivre (ma|mon) (commande|colis)\b|\b(commande|colis)\b.{0,25}\bpas (arrivée?|reçue?)\b"
    ),
    "es": re.compile(
        r"\b(dónde|donde) (está|esta) (mi|mis)\b.{0,15}\b(pedido|paquete|envío|envio)\b|"
        r"\b(rastrear|seguir) (mi|el) (pedido|paquete)\b|\b(pedido|paquete)\b.{0,25}"
        r"\bno (ha llegado|llega)\b"
    ),
    "it": re.compile(
        r"\b(dov'è|dove è|dove si trova) (il mio|la mia)\b.{0,15}\b(ordine|pacco|spedizione)\b|"
        r"\b(tracciare|seguire) (il mio|l') ?(ordine|pacco)\b|\b(ordine|pacco)\b.{0,25}"
        r"\bnon (è )?(arrivato|arriva)\b"
    ),
    "nl": re.compile(
        r"\bwaar (is|blijft) (mijn)\b.{0,15}\b(bestelling|pakket|pakje|levering)\b|"
        r"\b(bestelling|pakket|pakje)\b.{0,25}\b(niet|nog niet) (aangekomen|binnen)\b|"
        r"\bvolgen van mijn (bestelling|pakket)\b"
    ),
}

_WORD = re.compile(r"[\w']+")


@dataclass(frozen=True)
class Reading:
    """What a message is, and the language its words gave away (None: ask the detector)."""

    act: Act
    lang: str | None = None


def _normal(message: str) -> str:
    text = unicodedata.normalize("NFKC", message).lower().replace("’", "'")
    return " ".join(text.split())


def read(message: str) -> Reading:
    """The message's act: small talk and requests for a person or an order's whereabouts
    are recognised by their words; everything else is a question."""
    text = _normal(message)
    words = _WORD.findall(text)
    if not words:
        return Reading("question")
    small = _small_talk(words)
    if small is not None:
        return small
    for lang, pattern in _HANDOFF.items():
        if pattern.search(text):
            return Reading("handoff", lang)
    for lang, pattern in _ORDER_STATUS.items():
        if pattern.search(text):
            return Reading("order_status", lang)
    return Reading("question")


def _vocabularies() -> list[tuple[str, str, frozenset[str], frozenset[str]]]:
    """Per act and language: the words that carry it, and every word its message may
    hold (either act's words: "hi, thanks!"). Built once, not per message."""
    out = []
    for act, by_lang in _SMALL_TALK.items():
        other = _SMALL_TALK["greeting" if act == "thanks" else "thanks"]
        for lang, (carrying, filler) in by_lang.items():
            allowed = " ".join([carrying, filler, *other[lang]]).split()
            out.append((act, lang, frozenset(carrying.split()), frozenset(allowed)))
    return out


_VOCABULARIES = _vocabularies()


def _small_talk(words: list[str]) -> Reading | None:
    """Thanks or a greeting, in the language whose small-talk words the message is
    made of."""
    if len(words) > 8:
        return None
    for act, lang, carrying, allowed in _VOCABULARIES:
        if all(w in allowed for w in words) and any(w in carrying for w in words):
            return Reading(act, lang)  # type: ignore[arg-type]
    return None


# How much better the message read with the previous question must score than alone
# before it is taken as a follow-up: retrieval's confidence is calibrated per FAQ, so a
# lead in it means the same on every shop (docs/retrieval.md).
FOLLOW_UP_GAIN = 0.05
ONWARD_CANDIDATES = 3  # the combined reading's entries the message alone may pick from


def choose_reading(
    alone: SearchResult,
    combined: SearchResult,
    answered: str | None,
    onward: Callable[[frozenset[str]], SearchResult],
) -> tuple[SearchResult, bool]:
    """The result to answer from, and whether the message was read as a follow-up.

    ``combined`` is the message searched after the previous question; ``answered`` the
    entry the previous answer gave; ``onward(entries)`` searches the combined text
    without those entries.

    - The combined reading retrieves an entry other than the one just given: it is a
      follow-up if it retrieves clearly better than the message alone.
    - It retrieves the entry just given: that is the answer only if the message alone
      points there too ("and to Norway?" after the shipping prices asks the same entry
      for another country). Otherwise the customer moved on ("and how much does that
      cost?" after the countries, "voucher" after the returns window): the best entry
      of the combined reading that the message alone ranks first, or else its next
      entry, if retrieval answers them; else the message alone (which may decline)."""
    if combined.abstain or combined.top is None:
        return alone, False
    gone = frozenset({answered} if answered else ())
    if combined.top.entry_id != answered:
        mine = _alone_pick(alone, combined, gone, onward)
        if mine is not None:
            return mine, True
        if alone.abstain or combined.confidence >= alone.confidence + FOLLOW_UP_GAIN:
            return combined, True
        return alone, False
    return _after_the_entry_given(alone, combined, answered, gone, onward)


def _after_the_entry_given(
    alone: SearchResult,
    combined: SearchResult,
    answered: str | None,
    gone: frozenset[str],
    onward: Callable[[frozenset[str]], SearchResult],
) -> tuple[SearchResult, bool]:
    """choose_reading when the combined reading retrieves the entry just given."""
    if answered is not None and _top_id(alone) == answered:
        return (alone, False) if not alone.abstain else (combined, True)
    other = onward(gone)
    mine = _alone_pick(alone, other, gone, onward)
    if mine is not None:
        return mine, True
    agrees = _top_id(alone) is not None and _top_id(alone) == _top_id(other)
    if other.abstain or other.top is None:
        if not agrees and not alone.abstain and combined.certain():
            # A shop question whose two readings disagree, while the combined one is
            # certain of the entry just given: it asks that entry again ("and with
            # express?" after delivery times, where "express" alone reads as payment).
            return combined, True
        # Else the message alone, which may decline (with its "did you mean"):
        # re-giving the last answer to a new question misleads more.
        return alone, False
    if agrees or alone.abstain or other.confidence > alone.confidence:
        return other, True
    return alone, False


def _alone_pick(
    alone: SearchResult,
    reading: SearchResult,
    gone: frozenset[str],
    onward: Callable[[frozenset[str]], SearchResult],
) -> SearchResult | None:
    """When the message alone ranks first an entry that the combined reading ranks just
    below its top, that entry's combined reading, if retrieval answers it ("and merino
    jumpers?" after washing a down jacket: merino, not the waterproof jacket)."""
    own = _top_id(alone)
    ranked = [h.entry_id for h in reading.hits[:ONWARD_CANDIDATES] if h.entry_id not in gone]
    if own is None or own not in ranked or own == ranked[0]:
        return None
    mine = onward(gone | frozenset(ranked[: ranked.index(own)]))
    return None if mine.abstain else mine


def _top_id(result: SearchResult) -> str | None:
    return result.top.entry_id if result.top is not None else None
