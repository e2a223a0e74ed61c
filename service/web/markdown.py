"""The small markdown of FAQ answers, as safe HTML for the server-rendered page: bold,
lists and links (http, https and mailto only). Everything else is escaped text; the
browser's renderer (static/markdown.js) follows the same rules."""

from __future__ import annotations

import html
import re

_LINK = re.compile(r"\[([^\]\n]{1,200})\]\(([^)\s]{1,500})\)")
_BOLD = re.compile(r"\*\*([^*\n]{1,500})\*\*")
_ITEM = re.compile(r"^\s*(?:[-*]|\d+[.)])\s+(.*)$")
SAFE_SCHEMES = ("http://", "https://", "mailto:")


def _inline(text: str) -> str:
    out, pos = [], 0
    for m in _LINK.finditer(text):
        out.append(_bold(html.escape(text[pos : m.start()])))
        label, url = m.group(1), m.group(2)
        if url.lower().startswith(SAFE_SCHEMES):
            out.append(
                f'<a href="{html.escape(url, quote=True)}" rel="noopener noreferrer">'
                f"{_bold(html.escape(label))}</a>"
            )
        else:
            out.append(_bold(html.escape(label)))  # an unsafe link keeps its words only
        pos = m.end()
    out.append(_bold(html.escape(text[pos:])))
    return "".join(out)


def _bold(escaped: str) -> str:
    return _BOLD.sub(r"<strong>\1</strong>", escaped)


def render(text: str) -> str:
    blocks: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line for line in block.splitlines() if line.strip()]
        if lines and all(_ITEM.match(line) for line in lines):
            tag = "ol" if re.match(r"^\s*\d", lines[0]) else "ul"
            items = "".join(f"<li>{_inline(_ITEM.match(x).group(1))}</li>" for x in lines)  # type: ignore[union-attr]
            blocks.append(f"<{tag}>{items}</{tag}>")
        elif lines:
            blocks.append("<p>" + "<br>".join(_inline(x.strip()) for x in lines) + "</p>")
    return "".join(blocks)
