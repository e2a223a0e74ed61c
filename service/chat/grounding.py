"""Checks on a generated answer before a customer sees it.

The model's text is untrusted: a small model invents refund percentages, repeats its
rules, or writes HTML. An answer that states a number its passages do not contain, or
carries markup, is not shown; the FAQ's own text is (mode "fallback").
"""

from __future__ import annotations

import re

from service.chat.prompt import leaks_prompt

# 30, 4.95, 4,95, 1,000, 100% and the like; a number glued to letters ("NW-100234",
# "L6") is an identifier and counted as a whole token below.
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?![\w])")
_CITATION = re.compile(r"\[\d+\]")
_MARKUP = re.compile(
    # whole tags; a tag cut off by the token limit; script URLs; code fences
    r"</?[a-zA-Z][\w:-]*(?:\s[^<>]*)?/?>|<\s*/?\s*(?:faq|history|question|system|script)\b"
    r"|javascript:|```",
    re.IGNORECASE,
)


def _numbers(text: str) -> set[str]:
    found = set()
    for m in _NUMBER.finditer(text):
        value = m.group(0).rstrip(".,")
        found.add(value)
        found.add(value.replace(",", "."))  # 4,95 and 4.95 are the same amount
        found.add(value.replace(",", "").replace(".", ""))  # 1,000 and 1000 too
    return found


def unsupported_numbers(answer: str, *sources: str) -> list[str]:
    """Numbers the answer states that appear in none of the sources."""
    known: set[str] = set()
    for source in sources:
        known |= _numbers(source)
    said = _NUMBER.finditer(_CITATION.sub(" ", answer))  # [1] cites, it states nothing
    return [m.group(0) for m in said if not (_numbers(m.group(0)) & known)]


def refusal_reason(raw: str, answer: str, system_prefix: str, *sources: str) -> str | None:
    """Why a generated answer must not be shown (None: it may be). `raw` is the model's
    text as it came, `answer` the cleaned one, `sources` what it may draw on."""
    if not answer:
        return "empty answer"
    if leaks_prompt(raw, system_prefix):
        return "the model echoed its rules"
    if has_markup(answer):
        return "markup in the answer"
    invented = unsupported_numbers(answer, *sources)
    if invented:
        return f"numbers not in the passages: {', '.join(invented[:3])}"
    return None


def has_markup(answer: str) -> bool:
    """HTML or XML tags, script URLs or code fences: never for a customer."""
    return bool(_MARKUP.search(answer))


def strip_markup(text: str) -> str:
    """The text without tags, script URLs and code fences; whitespace tidied."""
    if not has_markup(text):
        return text
    return re.sub(r"[ \t]{2,}", " ", _MARKUP.sub(" ", text)).strip()
