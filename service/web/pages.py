"""The chat page as HTML, rendered on the server: the first paint for everyone, and the
whole experience for a browser without JavaScript (a plain form, an answer page)."""

from __future__ import annotations

import html
from dataclasses import dataclass

from service.config import Settings
from service.web.markdown import render

MODE_LABELS = {
    "canonical": "Answered from our FAQ",
    "extractive": "Answered from our FAQ",
    "fallback": "Answered from our FAQ",
    "generated": "Written from our FAQ",
    "abstained": "No answer found",
    "order": "Your order",
}


@dataclass(frozen=True)
class ShownExchange:
    question: str
    answer: str
    mode: str
    sources: list[tuple[str, str]]  # (title, url)


def page(
    settings: Settings,
    exchanges: list[ShownExchange] | None = None,
    session_id: str = "",
    notice: str = "",
) -> str:
    web = settings.web
    shop = html.escape(web.shop_name)
    log = [f'<article class="fb-msg fb-bot"><p>{html.escape(web.greeting)}</p></article>']
    log += [_exchange(e) for e in exchanges or []]
    if notice:
        log.append(f'<p class="fb-notice" role="alert">{html.escape(notice)}</p>')
    suggestions = "".join(
        f'<button type="submit" name="message" value="{html.escape(q, quote=True)}" '
        f'class="fb-suggestion">{html.escape(q)}</button>'
        for q in web.suggested_questions
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{shop} help</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/theme.css">
<link rel="stylesheet" href="/static/chat.css">
<script type="module" src="/static/chat.js"></script>
</head>
<body>
<main id="faqbot" class="fb fb-page">
<header class="fb-header"><h1 class="fb-title">{shop} help</h1></header>
<section class="fb-log" role="log" aria-label="Conversation">{"".join(log)}</section>
<form class="fb-composer" method="post" action="/ask">
<input type="hidden" name="session_id" value="{html.escape(session_id, quote=True)}">
<div class="fb-suggestions" aria-label="Suggested questions">{suggestions}</div>
<label for="fb-question" class="fb-label">Your question</label>
<div class="fb-row">
<textarea id="fb-question" name="message" rows="2"
 maxlength="{settings.chat.max_message_chars}"></textarea>
<button type="submit" class="fb-send">Send</button>
</div>
</form>
<footer class="fb-footer"><p>Prefer a person? Contact {html.escape(settings.chat.contact)}.</p>
</footer>
</main>
</body>
</html>
"""


def _exchange(e: ShownExchange) -> str:
    sources = "".join(
        f'<li><a href="{html.escape(url, quote=True)}" rel="noopener noreferrer">'
        f"{html.escape(title)}</a></li>"
        if url.startswith(("http://", "https://"))
        else f"<li>{html.escape(title)}</li>"
        for title, url in e.sources
    )
    label = html.escape(MODE_LABELS.get(e.mode, e.mode))
    return (
        f'<article class="fb-msg fb-user"><p>{html.escape(e.question)}</p></article>'
        f'<article class="fb-msg fb-bot"><div class="fb-text">{render(e.answer)}</div>'
        f'<p class="fb-mode">{label}</p>'
        + (f'<ul class="fb-sources" aria-label="Sources">{sources}</ul>' if sources else "")
        + "</article>"
    )
