"""A person's reply mailed to a customer whose page was closed when it came (from the
console or from the helpdesk); the reply is kept and shown on the page either way."""

from __future__ import annotations

import asyncio
import logging

from service.config import Settings
from service.handoff import reference
from service.live_handoff import LiveHandoffs
from service.mail import send_mail

log = logging.getLogger("faqbot.handoff")


async def mail_reply(
    live: LiveHandoffs, settings: Settings, handoff_id: str, message_id: int, text: str
) -> bool:
    """Whether it was mailed (SMTP set, the handoff known, the server took it)."""
    if not settings.handoff.smtp_host:
        return False
    contact = await asyncio.to_thread(live.contact, handoff_id)
    if contact is None:
        return False
    name, email = contact
    subject = f"Re: your question to {settings.shop.name} ({reference(handoff_id)})"
    try:
        await asyncio.to_thread(
            send_mail, settings.handoff, subject, f"Hello {name},\n\n{text}\n", None, email
        )
    except Exception as exc:  # the reply is stored and shown on the page all the same
        log.warning("a person's reply was not mailed: %s", type(exc).__name__)
        return False
    await asyncio.to_thread(live.mark_mailed, message_id)
    return True
