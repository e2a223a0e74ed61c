"""Answers that are not generated: an entry's own text, the decline, and the short
replies to small talk and requests (each with the form the page offers with it)."""

from __future__ import annotations

from service.chat.dialogue import Reading
from service.chat.grounding import strip_markup
from service.chat.turn import Action, Answer, Mode, SourceRef, TurnOutcome
from service.retrieval.retriever import Hit
from service.texts import phrase

# A dialogue act's reply: its text (the "chat" section, service/texts.py), the answer's mode,
# the form offered.
_DIALOGUE_REPLIES: dict[str, tuple[str, Mode, Action | None]] = {
    "greeting": ("greeting", "smalltalk", None),
    "thanks": ("thanks", "smalltalk", None),
    "handoff": ("handoff_offer", "handoff", "handoff"),
    "order_status": ("ask_order_number", "order", "order_lookup"),
}


def faq_answer(hit: Hit, mode: Mode, reason: str | None = None, lang: str = "en") -> Answer:
    """An entry's own text as a customer sees it: FAQ sources are data too, and markup
    planted in one (a script, our prompt fences) is removed, never passed on. A customer
    writing another language than the entry's is told, in theirs, that it is English."""
    source = SourceRef(1, hit.entry_id, hit.title, hit.url)
    text = strip_markup(hit.answer)
    note = phrase("english_only", lang) if hit.lang != lang else None
    return Answer(f"{note} {text}" if note else text, mode, (source,), reason)


def decline(lang: str, contact: str) -> Answer:
    return Answer(phrase("decline", lang, contact=contact) or "", "abstained")


def dialogue_reply(
    reading: Reading, lang: str, contact: str, reply_minutes: int | None = None
) -> TurnOutcome:
    """Small talk, a request for a person, or an order question without its number:
    a short fixed reply, and the form the page should offer with it. reply_minutes: a
    person answers in the chat now (opening hours), usually within that many minutes."""
    key, mode, action = _DIALOGUE_REPLIES[reading.act]
    if key == "handoff_offer" and reply_minutes is not None:
        key = "handoff_offer_live"
    text = phrase(key, lang, contact=contact, minutes=str(reply_minutes or "")) or ""
    return TurnOutcome(Answer(text, mode), lang, action=action)
