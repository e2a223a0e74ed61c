"""The chat page as HTML, rendered on the server: the first paint for everyone, and the
whole experience for a browser without JavaScript (a plain form, an answer page), in
the browser's language (the "page" texts of service/texts.py, which the scripts read too)."""

from __future__ import annotations

import html
from dataclasses import dataclass

from service.config import Settings
from service.texts import languages, page_texts
from service.web.markdown import render

MODE_KEYS = {
    "canonical": "modeFaq",
    "extractive": "modeFaq",
    "fallback": "modeFaq",
    "generated": "modeWritten",
    "abstained": "modeNone",
    "order": "modeOrder",
}


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
    lang = lang if lang in languages() else "en"
    title = html.escape(str(page_texts(lang)["title"]).replace("{shop}", settings.shop.name))
    body = shell(settings, lang, exchanges=exchanges, session_id=session_id, notice=notice)
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
{body}
</main>
</body>
</html>
"""


def shell(
    settings: Settings,
    lang: str,
    *,
    heading: str = "h1",
    exchanges: list[ShownExchange] | None = None,
    session_id: str = "",
    notice: str = "",
) -> str:
    """The chat's markup, written once: the page's (which works without JavaScript, a
    plain form posting to /ask) and the widget's panel (GET /v1/shell). The scripts
    (static/chat-view.js) take it over and add the buttons and dialogs that need them."""
    web = settings.web
    lang = lang if lang in languages() else "en"
    t = {k: html.escape(v or "") for k, v in page_texts(lang).items()}
    title = t["title"].replace("{shop}", html.escape(settings.shop.name))
    # English: the shop's own greeting from the settings; other languages: ours
    log = _log(t["greeting"] or html.escape(web.greeting), exchanges or [], notice, lang)
    # The shop's suggested questions are written in English: English pages only.
    suggested = web.suggested_questions if lang == "en" else []
    suggestions = "".join(
        f'<button type="submit" form="fb-form" name="message" '
        f'value="{html.escape(q, quote=True)}" class="fb-suggestion">{html.escape(q)}</button>'
        for q in suggested
    )
    tag = heading if heading in ("h1", "h2") else "h1"
    hidden = "" if suggestions else " hidden"
    return f"""<header class="fb-header"><{tag} class="fb-title">{title}</{tag}></header>
<section class="fb-log" role="log" aria-live="polite" aria-label="{t["conversation"]}"
 tabindex="0">{log}</section>
<div class="fb-suggestions" role="group" aria-label="{t["suggested"]}"{hidden}>{suggestions}</div>
<form id="fb-form" class="fb-composer" method="post" action="/ask" data-lang="{lang}">
<input type="hidden" name="session_id" value="{html.escape(session_id, quote=True)}">
<label for="fb-question" class="fb-label">{t["yourQuestion"]}</label>
<div class="fb-row">
<textarea id="fb-question" name="message" rows="2"
 maxlength="{settings.chat.max_message_chars}"></textarea>
<button type="submit" class="fb-send">{t["send"]}</button>
</div>
</form>
<footer class="fb-footer"><p>{t["askPerson"]}: {html.escape(settings.shop.contact)}.</p>
</footer>"""


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
