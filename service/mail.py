"""Mail to the shop's support address through the SMTP server of handoff.* (the same
for handoff requests and order requests). Blocking; callers run it in a thread."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from service.config import HandoffSettings


def send_mail(
    s: HandoffSettings,
    subject: str,
    body: str,
    reply_to: str | None = None,
    to: str | None = None,
) -> None:
    """To the shop's support address, or to ``to`` (a customer, for an agent's reply)."""
    mail = EmailMessage()
    mail["From"] = s.mail_from
    mail["To"] = to or s.mail_to
    if reply_to:
        mail["Reply-To"] = reply_to
    mail["Subject"] = subject
    mail.set_content(body)
    with smtplib.SMTP(s.smtp_host or "", s.smtp_port, timeout=s.timeout_s) as smtp:
        if s.smtp_starttls:
            smtp.starttls()
        if s.smtp_username:
            smtp.login(
                s.smtp_username, s.smtp_password.get_secret_value() if s.smtp_password else ""
            )
        smtp.send_message(mail)
