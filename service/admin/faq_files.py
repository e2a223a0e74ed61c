"""Edits the console makes to the FAQ sources, as an editor would make them by hand: the
markdown files in data/faq stay the source of truth (diffable in git), and the next
ingest, with its quality gate, publishes them.

- add_phrasings: a cluster's questions as ``Also asked:`` bullets of an entry (a
  ``## Question {#id}`` section, or a ``questions:`` list in a single entry's front matter);
- add_declines: questions the shop will not answer, as bullets of decline_examples.md.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

DECLINE_FILE = "decline_examples.md"
MAX_QUESTION = 500
_HEADING = re.compile(r"^##\s+.*\{#(?P<id>[^}\s]+)\}\s*$")
_ALSO = re.compile(r"^\s*\*{0,2}also asked:?\*{0,2}\s*$", re.IGNORECASE)
_BULLET = re.compile(r"^\s*[-*+]\s+(?P<text>.+?)\s*$")
_DECLINE_HEADER = (
    "# Questions we do not answer in the chat\n\n"
    "One question a line, as a customer would type it (the console's \"won't answer\" "
    "adds to this list).\n\n"
)


class FaqEditError(ValueError):
    """The edit cannot be made; the message says why (unknown entry, bad question)."""


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
        lines = path.read_text(encoding="utf-8").splitlines()
        edited = _add_to_section(lines, entry_id, new) or _add_to_front_matter(lines, entry_id, new)
        if edited is not None:
            _write(path, "\n".join(edited) + "\n")
            return path
    raise FaqEditError(f'no markdown entry "{entry_id}" under {faq_dir}')


def _is_translation_or_decline(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    return path.name.lower().startswith("decline") or (
        len(parts) > 1 and parts[0] in ("de", "fr", "es", "it", "nl")
    )


def _add_to_section(lines: list[str], entry_id: str, new: list[str]) -> list[str] | None:
    start = next(
        (i for i, ln in enumerate(lines) if (m := _HEADING.match(ln)) and m["id"] == entry_id),
        None,
    )
    if start is None:
        return None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    section = lines[start:end]
    also = next((i for i, ln in enumerate(section) if _ALSO.match(ln)), None)
    if also is None:
        body = section
        while body and not body[-1].strip():
            body = body[:-1]
        added = [*body, "", "Also asked:", *[f"- {q}" for q in new], ""]
        return [*lines[:start], *added, *lines[end:]]
    existing = {m["text"].lower() for ln in section if (m := _BULLET.match(ln))}
    last = also  # the list's last bullet (blank lines may sit between bullets)
    for i in range(also + 1, len(section)):
        if _BULLET.match(section[i]):
            last = i
        elif section[i].strip():
            break
    bullets = [f"- {q}" for q in new if q.lower() not in existing]
    at = start + last + 1
    return [*lines[:at], *bullets, *lines[at:]]


def _add_to_front_matter(lines: list[str], entry_id: str, new: list[str]) -> list[str] | None:
    if not lines or lines[0].strip() != "---":
        return None
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None or not any(ln.strip() == f"id: {entry_id}" for ln in lines[1:end]):
        return None
    bullets = [f"  - {q}" for q in new]
    key = next((i for i in range(1, end) if lines[i].rstrip() == "questions:"), None)
    if key is None:
        return [*lines[:end], "questions:", *bullets, *lines[end:]]
    last = key
    while last + 1 < end and lines[last + 1].startswith("  - "):
        last += 1
    existing = {ln[4:].strip().lower() for ln in lines[key + 1 : last + 1]}
    bullets = [b for b in bullets if b[4:].lower() not in existing]
    return [*lines[: last + 1], *bullets, *lines[last + 1 :]]


def add_declines(faq_dir: Path, questions: Sequence[str]) -> Path:
    new = clean_questions(questions)
    path = faq_dir / DECLINE_FILE
    text = path.read_text(encoding="utf-8") if path.is_file() else _DECLINE_HEADER
    existing = {m["text"].lower() for ln in text.splitlines() if (m := _BULLET.match(ln))}
    bullets = [f"- {q}\n" for q in new if q.lower() not in existing]
    _write(path, text.rstrip("\n") + "\n" + "".join(bullets))
    return path


def _write(path: Path, text: str) -> None:
    """Atomically: an ingest reading the folder sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def add_entry(
    faq_dir: Path,
    entry_id: str,
    question: str,
    answer: str,
    phrasings: Sequence[str] = (),
    file_name: str = "drafts.md",
) -> Path:
    """A new entry drafted from a cluster: a ``## Question {#id}`` section appended to a
    markdown file of the FAQ (drafts.md unless another file is named)."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}", entry_id):
        raise FaqEditError("an id is letters, digits, '.', '_' or '-' (up to 128)")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.md", file_name):
        raise FaqEditError("the file is a plain name ending in .md")
    [title] = clean_questions([question])
    body = "\n".join(line.rstrip() for line in answer.strip().splitlines())
    if not body or len(body) > 20_000:
        raise FaqEditError("an answer is 1 to 20,000 characters")
    if any(
        (m := _HEADING.match(line)) and m["id"] == entry_id
        for path in faq_dir.rglob("*.md")
        for line in path.read_text(encoding="utf-8").splitlines()
    ):
        raise FaqEditError(f'an entry "{entry_id}" exists already')
    path = faq_dir / file_name
    text = (
        path.read_text(encoding="utf-8")
        if path.is_file()
        else ("---\ncategory: Drafts from the console\n---\n")
    )
    section = f"\n## {title} {{#{entry_id}}}\n{body}\n"
    extra = [q for q in clean_questions(phrasings)] if phrasings else []
    if extra:
        section += "\nAlso asked:\n" + "".join(f"- {q}\n" for q in extra)
    _write(path, text.rstrip("\n") + "\n" + section)
    return path
