"""Free text from clients: one rule for every entry point (chat, stream, the OpenAI-
compatible endpoint, handoff, feedback, the no-JavaScript form, the console).

- A lone surrogate or a control character (other than tab and line breaks) is refused
  with a ValueError, which pydantic turns into a 422 naming the field: neither is text a
  customer meant to send, a surrogate cannot be stored, encoded or logged, and a control
  character in a mail header or a YAML file changes what the receiver reads.
- Invisible format characters (bidi overrides, zero-width spaces, a BOM) are dropped:
  they are pasted in good faith and can hide text from people reading it. The zero-width
  joiners that emoji and some scripts need are kept.
- Line breaks become "\\n"; a field that must be one line (a name in a mail header)
  refuses them.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator

_JOINERS = {"\u200c", "\u200d"}  # ZWNJ, ZWJ: part of emoji sequences and of scripts
# What str.splitlines (and so mail headers and YAML) also break at, besides "\n".
_LINE_BREAKS = str.maketrans({"\r": "\n", "\u2028": "\n", "\u2029": "\n"})


class UnreadableText(ValueError):
    """The text breaks the rule above; the message says how, never quoting the text."""


def clean_text(value: str, *, single_line: bool = False) -> str:
    """The text as it may be stored, shown, mailed or written into a file; raises
    UnreadableText for what no entry point accepts."""
    # Stripped first: a name typed with a trailing Enter is still one line.
    value = value.replace("\r\n", "\n").translate(_LINE_BREAKS).strip()
    kept = []
    for c in value:
        category = unicodedata.category(c)
        if category == "Cs":
            raise UnreadableText("contains an unpaired surrogate (not valid Unicode)")
        if c == "\n" and single_line:
            raise UnreadableText("must be a single line")
        if category == "Cc" and c not in "\n\t":
            raise UnreadableText(f"contains a control character (U+{ord(c):04X})")
        if category == "Cf" and c not in _JOINERS:
            continue
        kept.append(c)
    cleaned = "".join(kept).strip()
    if not cleaned:
        raise UnreadableText("the text is empty")
    return cleaned


def readable(value: str) -> str:
    return clean_text(value)


def one_line(value: str) -> str:
    return clean_text(value, single_line=True)


ReadableText = Annotated[str, AfterValidator(readable)]
OneLineText = Annotated[str, AfterValidator(one_line)]
