"""The chat page as HTML, rendered on the server: the first paint for everyone, and the
whole experience for a browser without JavaScript (a plain form, an answer page), in
the browser's language (page_texts.json: the same wording as static/i18n.js)."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from service.config import Settings
from service.web.markdown import render

TEXTS_FILE = Path(__file__).with_name("page_texts.json")
MODE_KEYS = {
    "canonical": "mode_faq",
    "extractive": "mode_faq",
    "fallback": "mode_faq",
    "generated": "mode_written",
    "abstained": "mode_none",
    "order": "mode_order",
}


@cache
def _all_texts() -> dict[str, dict[str, str | None]]:
    texts: dict[str, dict[str, str | None]] = json.loads(TEXTS_FILE.read_text("utf-8"))
    return texts


def page_texts(lang: str) -> dict[str, str | None]:
    """The page's texts in ``lang``; English for a language the page does not have."""
    texts = _all_texts()
    return texts.get(lang, texts["en"])


def text(lang: str, key: str) -> str:
    return str(page_texts(lang)[key])


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
    lang: str = "en",
) -> str:
    web = settings.web
    lang = lang if lang in _all_texts() else "en"
    t = {k: html.escape(v or "") for k, v in page_texts(lang).items()}
    title = t["title"].replace("{shop}", html.escape(settings.shop.name))
    # English: the shop's own greeting from the settings; other languages: ours
    log = _log(t["greeting"] or html.escape(web.greeting), exchanges or [], notice, lang)
    suggestions = "".join(
        f'<button type="submit" name="message" value="{html.escape(q, quote=True)}" '
        f'class="fb-suggestion">{html.escape(q)}</button>'
        for q in web.suggested_questions
    )
    return f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/theme.css">
<link rel="stylesheet" href="/static/chat.css">
<script type="module" src="/static/chat.js"></script>
</head>
<body>
<main id="faqbot" class="fb fb-page">
<header class="fb-header"><h1 class="fb-title">{title}</h1></header>
<section class="fb-log" role="log" aria-label="{t["conversation"]}">{log}</section>
<form class="fb-composer" method="post" action="/ask">
<input type="hidden" name="session_id" value="{html.escape(session_id, quote=True)}">
<div class="fb-suggestions" aria-label="{t["suggested"]}">{suggestions}</div>
<label for="fb-question" class="fb-label">{t["your_question"]}</label>
<div class="fb-row">
<textarea id="fb-question" name="message" rows="2"
 maxlength="{settings.chat.max_message_chars}"></textarea>
<button type="submit" class="fb-send">{t["send"]}</button>
</div>
</form>
<footer class="fb-footer"><p>{t["ask_person"]}: {html.escape(settings.shop.contact)}.</p>
</footer>
</main>
</body>
</html>
"""


def _log(greeting: str, exchanges: list[ShownExchange], notice: str, lang: str) -> str:
    """The conversation so far: the greeting, each exchange, and a notice if any."""
    log = [f'<article class="fb-msg fb-bot"><p>{greeting}</p></article>']
    log += [_exchange(e, lang) for e in exchanges]
    if notice:
        log.append(f'<p class="fb-notice" role="alert">{html.escape(notice)}</p>')
    return "".join(log)


def _exchange(e: ShownExchange, lang: str) -> str:
    sources = "".join(
        f'<li><a href="{html.escape(url, quote=True)}" rel="noopener noreferrer">'
        f"{html.escape(title)}</a></li>"
        if url.startswith(("http://", "https://"))
        else f"<li>{html.escape(title)}</li>"
        for title, url in e.sources
    )
    key = MODE_KEYS.get(e.mode)
    label = html.escape(text(lang, key) if key else e.mode)
    return (
        f'<article class="fb-msg fb-user"><p>{html.escape(e.question)}</p></article>'
        f'<article class="fb-msg fb-bot"><div class="fb-text">{render(e.answer)}</div>'
        f'<p class="fb-mode">{label}</p>'
        + (
            f'<ul class="fb-sources" aria-label="{html.escape(text(lang, "sources"))}">'
            f"{sources}</ul>"
            if sources
            else ""
        )
        + "</article>"
    )
