"""What the console writes into the FAQ sources reads back as written, whatever a
customer typed (property-based, with hypothesis), and a change that would not read back
is refused with its reason, the file untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.admin.faq_files import FaqEditError, add_declines, add_entry, add_phrasings
from service.sources.parse import parse_declines, parse_file
from service.sources.write import yaml_item

FRONT_MATTER_ENTRY = """---
id: click-and-collect
title: Can I pick up my order in a store?
category: Stores
questions:
  - can i collect in store
---
Yes: choose click & collect at checkout.
"""
SECTIONS = """---
category: Returns
---
## How long do I have to return an item? {#returns-window}
Within 30 days of delivery.

- This list is part of the answer

Also asked:
- how many days to send it back

## Do you refund shipping? {#refund-shipping}
Only for faulty items.
"""
HOSTILE = [
    "it's broken",
    "[object] or {a: b}",
    "@team can you help",
    "!!python/object/apply:os.system ['rm -rf /']",
    "key: value",
    "what about # this",
    "yes",
    "null",
    "~",
    "0x10",
    "- a list?",
    "| literal",
    "> folded",
    "*alias",
    "&anchor here",
    "%TAG ! tag:x",
    "`code` and ```fence```",
    '"quoted" and \\backslash\\',
    "## not a heading",
    "Also asked:",
    "ends with a colon:",
    "a --- b",
    "{#returns-window}",
    "Ünïcödé 日本語 🙂 emoji",
]
# What reaches the files: one line of anything the API's text rule lets through.
QUESTION = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=80
).filter(lambda t: " ".join(t.split()).lstrip("#>-*+ ").strip() != "")


def expected(text: str) -> str:
    return " ".join(text.split()).lstrip("#>-*+ ").strip()


def _files(tmp_path: Path) -> Path:
    faq = tmp_path / "faq"
    faq.mkdir(exist_ok=True)
    (faq / "click-and-collect.md").write_text(FRONT_MATTER_ENTRY, encoding="utf-8")
    (faq / "returns.md").write_text(SECTIONS, encoding="utf-8")
    return faq


def phrasings_of(path: Path, entry_id: str) -> tuple[str, ...]:
    entries, errors = parse_file(path)
    assert errors == [], errors
    return next(e for e in entries if e.id == entry_id).questions


@pytest.mark.parametrize("question", HOSTILE)
def test_hostile_questions_read_back_from_front_matter_sections_and_declines(
    tmp_path: Path, question: str
) -> None:
    faq = _files(tmp_path)
    front = add_phrasings(faq, "click-and-collect", [question])
    assert phrasings_of(front, "click-and-collect")[-1] == expected(question)
    section = add_phrasings(faq, "returns-window", [question])
    assert phrasings_of(section, "returns-window")[-1] == expected(question)
    declines = add_declines(faq, [question])
    assert parse_declines(declines)[0][-1][2] == expected(question)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(questions=st.lists(QUESTION, min_size=1, max_size=4))
def test_any_question_round_trips_through_every_file_kind(
    tmp_path: Path, questions: list[str]
) -> None:
    faq = _files(tmp_path)
    wanted = list(dict.fromkeys(expected(q) for q in questions))
    for entry_id, name in (
        ("click-and-collect", "click-and-collect.md"),
        ("returns-window", "returns.md"),
    ):
        before = phrasings_of(faq / name, entry_id)
        add_phrasings(faq, entry_id, questions)
        after = phrasings_of(faq / name, entry_id)
        known = {q.lower() for q in before}
        question = parse_file(faq / name)[0][0].question if entry_id == "click-and-collect" else ""
        new = [q for q in wanted if q.lower() not in known and q != question]
        assert list(after) == [*before, *new]
    declines = add_declines(faq, questions)
    # the list is kept free of repeats that differ only in case
    assert {q.lower() for _, _, q in parse_declines(declines)[0]} >= {q.lower() for q in wanted}


def test_yaml_items_are_plain_only_when_yaml_reads_them_back_unchanged() -> None:
    assert yaml_item("can i collect in store") == "can i collect in store"
    assert yaml_item("yes") == '"yes"'
    assert yaml_item("it's: broken") == '"it\'s: broken"'
    assert yaml_item("!!python/object x").startswith('"')


def test_a_change_that_would_not_read_back_is_refused_and_the_file_kept(tmp_path: Path) -> None:
    faq = _files(tmp_path)
    before = (faq / "returns.md").read_text(encoding="utf-8")
    for answer in (
        "Fine.\n## A new section {#x}\nmore",
        "```\nunclosed fence",
        "ok\nAlso asked:\n- q",
    ):
        with pytest.raises(FaqEditError, match="answer line"):
            add_entry(faq, "gift-wrap", "Do you gift wrap?", answer, file_name="returns.md")
    assert (faq / "returns.md").read_text(encoding="utf-8") == before
    # a single-entry file cannot take a section: the parser's own error, with its line
    with pytest.raises(FaqEditError, match="would not parse"):
        add_entry(faq, "gift-wrap", "Do you gift wrap?", "No.", file_name="click-and-collect.md")
    assert (faq / "click-and-collect.md").read_text(encoding="utf-8") == FRONT_MATTER_ENTRY


def test_a_draft_into_the_decline_list_is_refused_with_the_reason(tmp_path: Path) -> None:
    faq = _files(tmp_path)
    with pytest.raises(FaqEditError, match="never be published"):
        add_entry(faq, "gift-wrap", "Do you gift wrap?", "No.", file_name="decline_examples.md")
    assert not (faq / "decline_examples.md").exists()
    path = add_entry(faq, "gift-wrap", "Do you gift wrap?", "No, sorry.", ["gift wrapping?"])
    entries, errors = parse_file(path)
    assert (
        errors == []
        and entries[-1].id == "gift-wrap"
        and entries[-1].questions == ("gift wrapping?",)
    )


def test_an_inline_questions_list_is_refused_with_what_to_do(tmp_path: Path) -> None:
    faq = _files(tmp_path)
    (faq / "click-and-collect.md").write_text(
        FRONT_MATTER_ENTRY.replace("questions:\n  - can i collect in store", "questions: [a, b]"),
        encoding="utf-8",
    )
    with pytest.raises(FaqEditError, match="one '- ' item a line"):
        add_phrasings(faq, "click-and-collect", ["new one"])
