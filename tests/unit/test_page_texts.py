"""The page rendered on the server and the page's scripts say the same things: the
texts they share are compared with static/i18n.js, language by language."""

from __future__ import annotations

import re

import pytest

from service.retrieval.language import LANGUAGES
from service.web.pages import TEXTS_FILE, page_texts

STATIC_I18N = TEXTS_FILE.parent / "static" / "i18n.js"  # the scripts' own texts
# page_texts.json key -> static/i18n.js key
SHARED = {
    "conversation": "conversation",
    "suggested": "suggested",
    "your_question": "yourQuestion",
    "send": "send",
    "ask_person": "askPerson",
    "mode_faq": "modeFaq",
    "mode_written": "modeWritten",
    "mode_none": "modeNone",
    "mode_order": "modeOrder",
    "greeting": "greeting",
}


def script_texts(lang: str) -> dict[str, str | None]:
    source = STATIC_I18N.read_text(encoding="utf-8")
    block = re.search(rf"^const {lang.upper()} = \{{$(.*?)^\}};$", source, re.M | re.S)
    assert block is not None, f"no {lang} block in i18n.js"
    found: dict[str, str | None] = {}
    value = r"(?:'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"|null)"
    line = rf"^\s+(\w+): {value},?(?:\s*//.*)?$"  # a trailing comment is allowed
    for key, single, double in re.findall(line, block.group(1), re.M):
        found[key] = single or double or None
    return found


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_server_page_and_the_scripts_share_their_wording(lang: str) -> None:
    ours = page_texts(lang)
    theirs = script_texts(lang)
    for key, js_key in SHARED.items():
        assert js_key in theirs, f"{lang}: {js_key} missing in i18n.js"
        assert ours[key] == theirs[js_key], f"{lang}: {key}"
