"""Edits the console makes to the FAQ sources, as an editor would make them by hand: the
markdown files in data/faq stay the source of truth (diffable in git), and the next
ingest, with its quality gate, publishes them.

- add_phrasings: a cluster's questions as ``Also asked:`` bullets of an entry (a
  ``## Question {#id}`` section, or a ``questions:`` list in a single entry's front matter);
- add_declines: questions the shop will not answer, as bullets of decline_examples.md;
- add_entry: a new entry drafted from a cluster.

Every text goes into the file through service/sources/write.py, and a changed file is
written only when it parses back to the entries intended: a customer's question in the
inbox cannot break the FAQ.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

from service.retrieval.language import TRANSLATION_LANGUAGES
from service.retrieval.schema import FaqEntry
from service.sources import write
from service.sources.parse import ALSO_ASKED, BULLET, HEADING, is_decline_file

DECLINE_FILE = "decline_examples.md"
MAX_QUESTION = 500
_QUESTIONS_KEY = re.compile(r"^questions:\s*(?P<rest>[^#]*?)\s*(#.*)?$")
_DECLINE_HEADER = (
    "# Questions we do not answer in the chat\n\n"
    "One question a line, as a customer would type it (the console's \"won't answer\" "
    "adds to this list).\n\n"
)


# The edit cannot be made; the message says why (unknown entry, bad question, or a
# change the writer refuses): one error for the console, whichever layer found it.
FaqEditError = write.SourceWriteError


def clean_questions(questions: Sequence[str]) -> list[str]:
    """One line each, whitespace collapsed, no markup that would change the file's shape."""
    out = []
    for q in questions:
        text = " ".join(str(q).split()).lstrip("#>-*+ ").strip()
        if not text:
            continue
        if len(text) > MAX_QUESTION:
            raise FaqEditError(f"a question is longer than {MAX_QUESTION} characters")
        out.append(text)
    if not out:
        raise FaqEditError("no questions to add")
    return list(dict.fromkeys(out))


def add_phrasings(faq_dir: Path, entry_id: str, questions: Sequence[str]) -> Path:
    new = clean_questions(questions)
    for path in sorted(faq_dir.rglob("*.md")):
        if _is_translation_or_decline(path, faq_dir):
            continue
        before = path.read_text(encoding="utf-8")
        lines = before.splitlines()
        edited = _add_to_section(lines, entry_id, new)
        if edited is None:
            edited = _add_to_front_matter(path, before, entry_id, new)
        if edited is not None:
            after = "\n".join(edited) + "\n"
            write.check_markdown(path, before, after, _with_phrasings(entry_id, new))
            write.write_atomically(path, after)
            return path
    raise FaqEditError(f'no markdown entry "{entry_id}" under {faq_dir}')


def _with_phrasings(entry_id: str, new: list[str]) -> Callable[[list[FaqEntry]], list[FaqEntry]]:
    """The entries as they should read after the edit (the parser's own de-duplication:
    a phrasing equal to the question or to another phrasing is dropped)."""

    def expect(entries: list[FaqEntry]) -> list[FaqEntry]:
        out = []
        for e in entries:
            if e.id == entry_id:
                known = {q.lower() for q in e.questions}
                added = [q for q in new if q.lower() not in known and q != e.question]
                e = FaqEntry(e.id, e.question, e.answer, (*e.questions, *added))
            out.append(e)
        return out

    return expect


def _is_translation_or_decline(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    return is_decline_file(path) or (len(parts) > 1 and parts[0] in TRANSLATION_LANGUAGES)


def _add_to_section(lines: list[str], entry_id: str, new: list[str]) -> list[str] | None:
    start = next(
        (i for i, ln in enumerate(lines) if (m := HEADING.match(ln)) and m["id"] == entry_id),
        None,
    )
    if start is None:
        return None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    section = lines[start:end]
    also = next((i for i, ln in enumerate(section) if ALSO_ASKED.match(ln)), None)
    if also is None:
        body = section
        while body and not body[-1].strip():
            body = body[:-1]
        added = [*body, "", "Also asked:", *_markdown_bullets(new), ""]
        return [*lines[:start], *added, *lines[end:]]
    existing = {m["text"].lower() for ln in section[also:] if (m := BULLET.match(ln))}
    last = also  # the list's last bullet (blank lines may sit between bullets)
    for i in range(also + 1, len(section)):
        if BULLET.match(section[i]):
            last = i
        elif section[i].strip():
            break
    bullets = _markdown_bullets([q for q in new if q.lower() not in existing])
    at = start + last + 1
    return [*lines[:at], *bullets, *lines[at:]]


def _add_to_front_matter(path: Path, text: str, entry_id: str, new: list[str]) -> list[str] | None:
    """A single-entry file (front matter, no sections) whose entry is entry_id: the new
    questions appended to its ``questions:`` block list, quoted as YAML needs."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return None
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        return None
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError:
        return None  # broken already: ingest reports it with its line
    if not isinstance(meta, dict) or str(meta.get("id") or path.stem) != entry_id:
        return None
    if any(HEADING.match(ln) for ln in lines[end + 1 :]):
        return None  # a file of sections: its entries are found by their headings
    raw = meta.get("questions") or []
    existing = {str(q).lower() for q in (raw if isinstance(raw, list) else [raw])}
    fresh = [q for q in new if q.lower() not in existing]
    key = next((i for i in range(1, end) if _QUESTIONS_KEY.match(lines[i])), None)
    if key is None:
        return [*lines[:end], "questions:", *_items(fresh, "  "), *lines[end:]]
    match = _QUESTIONS_KEY.match(lines[key])
    if match is not None and match["rest"]:
        raise FaqEditError(
            f"{path.name}:{key + 1}: 'questions:' is written on one line; make it a list "
            "with one '- ' item a line, then add the phrasings"
        )
    last, indent = key, "  "
    while last + 1 < end and (lines[last + 1].startswith((" ", "-")) or not lines[last + 1]):
        last += 1
        if lines[last].lstrip().startswith("- "):
            indent = lines[last][: len(lines[last]) - len(lines[last].lstrip())]
    return [*lines[: last + 1], *_items(fresh, indent), *lines[last + 1 :]]


def _items(questions: Sequence[str], indent: str) -> list[str]:
    return [f"{indent}- {write.yaml_item(q)}" for q in questions]


def _markdown_bullets(questions: Sequence[str]) -> list[str]:
    return [write.markdown_bullet(q) for q in questions]


def add_declines(faq_dir: Path, questions: Sequence[str]) -> Path:
    new = clean_questions(questions)
    path = faq_dir / DECLINE_FILE
    before = path.read_text(encoding="utf-8") if path.is_file() else _DECLINE_HEADER
    existing = {m["text"].lower() for ln in before.splitlines() if (m := BULLET.match(ln))}
    bullets = [f"{b}\n" for b in _markdown_bullets([q for q in new if q.lower() not in existing])]
    after = before.rstrip("\n") + "\n" + "".join(bullets)
    write.check_declines(path, before, after, new)
    write.write_atomically(path, after)
    return path


def add_entry(
    faq_dir: Path,
    entry_id: str,
    question: str,
    answer: str,
    phrasings: Sequence[str] = (),
    file_name: str = "drafts.md",
) -> Path:
    """A new entry drafted from a cluster: a ``## Question {#id}`` section appended to a
    markdown file of the FAQ (drafts.md unless another file is named). A file whose
    entries ingest would not publish (a decline list) is refused."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}", entry_id):
        raise FaqEditError("an id is letters, digits, '.', '_' or '-' (up to 128)")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.md", file_name):
        raise FaqEditError("the file is a plain name ending in .md")
    path = faq_dir / file_name
    if is_decline_file(path):
        raise FaqEditError(
            f"{file_name} lists questions the shop does not answer: an entry there would "
            "never be published; choose another file (drafts.md)"
        )
    [title] = clean_questions([question])
    if not answer.strip() or len(answer) > 20_000:
        raise FaqEditError("an answer is 1 to 20,000 characters")
    if any(
        (m := HEADING.match(line)) and m["id"] == entry_id
        for p in faq_dir.rglob("*.md")
        for line in p.read_text(encoding="utf-8").splitlines()
    ):
        raise FaqEditError(f'an entry "{entry_id}" exists already')
    extra = [q for q in clean_questions(phrasings) if q != title] if phrasings else []
    body = write.answer_block(answer)
    section = f"\n{write.heading(title, entry_id)}\n{body}\n"
    if extra:
        section += "\nAlso asked:\n" + "".join(f"{b}\n" for b in _markdown_bullets(extra))
    before = path.read_text(encoding="utf-8") if path.is_file() else _DRAFTS_HEADER
    after = before.rstrip("\n") + "\n" + section
    entry = FaqEntry(entry_id, title, body.strip(), tuple(extra))
    write.check_markdown(path, before, after, lambda old: [*old, entry])
    write.write_atomically(path, after)
    return path


_DRAFTS_HEADER = "---\ncategory: Drafts from the console\n---\n"
