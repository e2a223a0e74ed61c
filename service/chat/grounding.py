"""Checks on a generated answer before a customer sees it.

The model's text is untrusted: a small model invents refund percentages, repeats its
rules, or writes HTML. An answer that states a fact its passages do not contain (the
extractor of service/chat/facts.py, as the sentence guard uses it), or carries markup,
is not shown; the FAQ's own text is (mode "fallback").
"""

from __future__ import annotations

import re

from service.chat.facts import unsupported
from service.chat.prompt import leaks_prompt

_MARKUP = re.compile(
    # whole tags; a tag cut off by the token limit; script URLs; code fences
    r"</?[a-zA-Z][\w:-]*(?:\s[^<>]*)?/?>|<\s*/?\s*(?:faq|history|question|system|script)\b"
    r"|javascript:|```",
    re.IGNORECASE,
)


def refusal_reason(raw: str, answer: str, system_prefix: str, *sources: str) -> str | None:
    """Why a generated answer must not be shown (None: it may be). `raw` is the model's
    text as it came, `answer` the cleaned one, `sources` what it may draw on."""
    if not answer:
        return "empty answer"
    if leaks_prompt(raw, system_prefix):
        return "the model echoed its rules"
    if has_markup(answer):
        return "markup in the answer"
    invented = unsupported(answer, *sources)
    if invented:
        return "facts not in the passages: " + ", ".join(f.value for f in invented[:3])
    return None


def has_markup(answer: str) -> bool:
    """HTML or XML tags, script URLs or code fences: never for a customer."""
    return bool(_MARKUP.search(answer))


def strip_markup(text: str) -> str:
    """The text without tags, script URLs and code fences; whitespace tidied."""
    if not has_markup(text):
        return text
    return re.sub(r"[ \t]{2,}", " ", _MARKUP.sub(" ", text)).strip()
