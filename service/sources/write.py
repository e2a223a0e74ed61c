"""Writing into FAQ sources: every text a customer or an editor typed goes into a file
through these, quoted or escaped for the place it lands, and every changed file must
parse back (with parse.py, the reader ingest uses) to exactly the entries intended.

- A YAML list item (`questions:` in front matter) is written plain when YAML reads the
  plain form back as the same string, else as a double-quoted scalar (JSON's quoting,
  which YAML reads the same way): `'`, `[`, `@`, `: `, `#` or `!!python/object` cannot
  change the front matter's shape or type.
- A markdown bullet holds one line: the parser takes a bullet's text as it stands.
- An answer is markdown; lines that would start a section, a fence or a phrasing list of
  their own are refused rather than silently changing the file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import yaml

from service.retrieval.schema import FaqEntry
from service.sources.parse import (
    ALSO_ASKED,
    BULLET,
    HEADING,
    parse_decline_text,
    parse_markdown_text,
)


class SourceWriteError(ValueError):
    """The change cannot be written as asked; the message says why."""


def write_atomically(path: Path, text: str) -> None:
    """An ingest reading the folder sees the old file or the new one, and a failure
    leaves the old one as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def one_line(text: str) -> str:
    line = " ".join(text.split())
    if not line:
        raise SourceWriteError("an empty question")
    return line


def yaml_item(text: str) -> str:
    """`text` as a YAML block-list item's scalar."""
    line = one_line(text)
    try:
        if yaml.safe_load(f"- {line}") == [line]:
            return line
    except yaml.YAMLError:
        pass
    return json.dumps(line, ensure_ascii=False)


def markdown_bullet(text: str) -> str:
    line = one_line(text)
    match = BULLET.match(f"- {line}")
    if match is None or match["text"] != line:  # cannot happen for one stripped line
        raise SourceWriteError(f"cannot be written as a list item: {line[:60]!r}")
    return f"- {line}"


def answer_block(answer: str) -> str:
    """An answer's lines as a section body; refuses what would change the structure."""
    lines = [line.rstrip() for line in answer.strip().splitlines()]
    for n, line in enumerate(lines, start=1):
        if HEADING.match(line) or line.lstrip().startswith("```") or ALSO_ASKED.match(line):
            raise SourceWriteError(
                f"answer line {n} would start a section, a code fence or a phrasing list "
                f"({line[:40]!r}); write it differently"
            )
        if n == 1 and line.strip() == "---":
            raise SourceWriteError("an answer cannot start with '---' (front matter)")
    return "\n".join(lines)


def heading(title: str, entry_id: str) -> str:
    line = one_line(title)
    text = f"## {line} {{#{entry_id}}}"
    match = HEADING.match(text)
    if match is None or match["id"] != entry_id or match["text"] != line:
        raise SourceWriteError(f"the question cannot be a heading: {line[:60]!r}")
    return text


def _comparable(entries: list[FaqEntry]) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """What an edit may change: ids, questions, answers, phrasings (the rest, such as
    the category or a source line, follows from the file)."""
    return [(e.id, e.question, e.answer, e.questions) for e in entries]


def check_markdown(
    path: Path, before: str, after: str, expect: Callable[[list[FaqEntry]], list[FaqEntry]]
) -> None:
    """Refuse `after` unless it parses without new errors to expect(entries of before)."""
    old, old_errors = parse_markdown_text(str(path), before)
    new, new_errors = parse_markdown_text(str(path), after)
    known = {e.message for e in old_errors}
    fresh = [str(e) for e in new_errors if e.message not in known]
    if fresh:
        raise SourceWriteError("the file would not parse: " + "; ".join(fresh[:3]))
    if _comparable(new) != _comparable(expect(old)):
        raise SourceWriteError(f"{path.name}: the change would not read back as intended")


def check_declines(path: Path, before: str, after: str, added: list[str]) -> None:
    old = [q for _, _, q in parse_decline_text(str(path), before)[0]]
    found, errors = parse_decline_text(str(path), after)
    if errors:
        raise SourceWriteError("the file would not parse: " + "; ".join(map(str, errors[:3])))
    seen = {q.lower() for q in old}
    wanted = old + [q for q in added if q.lower() not in seen]
    if [q.lower() for _, _, q in found] != [q.lower() for q in wanted]:
        raise SourceWriteError(f"{path.name}: the change would not read back as intended")
