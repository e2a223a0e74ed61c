"""FAQ sources: markdown folders, JSONL and CSV exports, parsed into entries.

Markdown: YAML front matter, then either one entry (front matter holds ``id`` and
``title``; the body is the answer) or several entries, one per ``## Question {#id}``
heading. Inside a section, a paragraph ``Also asked:`` followed by a bullet list gives
the alternate phrasings. Front matter keys: id, title, category, url, updated, questions.

Decline examples: a file whose name starts with ``decline`` (``decline_examples.md``,
``declines.jsonl``) lists questions the shop does not answer, one a bullet (markdown)
or one ``{"query": ...}`` a line (JSONL). Ingest learns from them what to decline.

Translations: a folder named for a language (``de/``, ``fr/``, ``es/``, ``it/``, ``nl/``)
directly inside a source folder holds that language's version of entries, with the same
ids (``data/faq/de/returns.md``), and that language's decline examples. A translation
of an id the FAQ does not have is an error; an entry without a translation is reported.
The "Also asked:" label may be written in the folder's language.

Every problem is reported with file and line; nothing here raises on bad content.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from service.retrieval.language import TRANSLATION_LANGUAGES
from service.retrieval.schema import FaqEntry

SOURCE_SUFFIXES = {".md", ".markdown", ".jsonl", ".csv"}
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
HEADING = re.compile(r"^##\s+(?P<text>.+?)\s*(?:\{#(?P<id>[^}\s]+)\})?\s*$")
ALSO_ASKED = re.compile(
    r"^\s*\*{0,2}(also asked|auch gefragt|aussi demandé|también preguntado|"
    r"anche chiesto|ook gevraagd):?\*{0,2}\s*$",
    re.IGNORECASE,
)
BULLET = re.compile(r"^\s*[-*+]\s+(?P<text>.+?)\s*$")
_FRONT_KEYS = {"id", "title", "category", "url", "updated", "questions", "question"}
# A JSONL object's keys and a CSV file's columns: an entry's fields.
_ENTRY_KEYS = _FRONT_KEYS | {"answer"}


@dataclass(frozen=True)
class SourceError:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


MAX_DECLINE_CHARS = 500


@dataclass
class ParseResult:
    entries: list[FaqEntry]
    errors: list[SourceError]
    files: int
    declines: list[str] = field(default_factory=list)
    # language -> its translated entries (same ids), and its decline examples
    translations: dict[str, list[FaqEntry]] = field(default_factory=dict)
    foreign_declines: dict[str, list[str]] = field(default_factory=dict)

    def untranslated(self, lang: str) -> list[str]:
        done = {e.id for e in self.translations.get(lang, [])}
        return [e.id for e in self.entries if e.id not in done]


def is_decline_file(path: Path) -> bool:
    return path.name.lower().startswith("decline")


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[SourceError]]:
    """Expand folders into source files (sorted, so ids and errors come out stable)."""
    files: list[Path] = []
    errors: list[SourceError] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SOURCE_SUFFIXES
            )
            if not found:
                errors.append(SourceError(str(path), 0, "no .md, .jsonl or .csv files found"))
            files.extend(found)
        elif path.is_file():
            if path.suffix.lower() not in SOURCE_SUFFIXES:
                errors.append(
                    SourceError(str(path), 0, "unsupported file type (use .md, .jsonl or .csv)")
                )
            else:
                files.append(path)
        else:
            errors.append(SourceError(str(path), 0, "no such file or folder"))
    return files, errors


def translation_language(path: Path, roots: Iterable[Path]) -> str | None:
    """The language a file is written in when it sits in a language folder directly
    inside one of the source folders (``data/faq/de/returns.md``), else None."""
    for root in roots:
        if root.is_dir() and path.is_relative_to(root):
            parts = path.relative_to(root).parts
            if len(parts) > 1 and parts[0].lower() in TRANSLATION_LANGUAGES:
                return parts[0].lower()
    return None


def parse_sources(paths: Iterable[Path]) -> ParseResult:
    roots = list(paths)
    files, errors = discover(roots)
    entries: list[FaqEntry] = []
    declines: list[tuple[str, int, str]] = []
    translated: dict[str, list[FaqEntry]] = {}
    foreign: dict[str, list[tuple[str, int, str]]] = {}
    for path in files:
        lang = translation_language(path, roots)
        if is_decline_file(path):
            file_declines, file_errors = parse_declines(path)
            (declines if lang is None else foreign.setdefault(lang, [])).extend(file_declines)
        else:
            file_entries, file_errors = parse_file(path)
            (entries if lang is None else translated.setdefault(lang, [])).extend(file_entries)
        errors.extend(file_errors)
    entries, dup_errors = _drop_duplicates(entries)
    errors.extend(dup_errors)
    kept, decline_errors = _check_declines(declines, entries)
    errors.extend(decline_errors)
    result = ParseResult(entries=entries, errors=errors, files=len(files), declines=kept)
    known = {e.id for e in entries}
    for lang in sorted(translated):
        unique, dup_errors = _drop_duplicates(translated[lang])
        errors.extend(dup_errors)
        for entry in unique:
            if entry.id not in known:
                where, line = _split_source(entry.source)
                errors.append(
                    SourceError(where, line, f'translation of "{entry.id}", which no entry has')
                )
        result.translations[lang] = [e for e in unique if e.id in known]
    for lang in sorted(foreign):
        result.foreign_declines[lang] = list(dict.fromkeys(q for _, _, q in foreign[lang]))
    return result


def parse_declines(path: Path) -> tuple[list[tuple[str, int, str]], list[SourceError]]:
    """(path, line, question) for each decline example in a decline file."""
    if path.suffix.lower() == ".csv":
        return [], [SourceError(str(path), 1, "decline examples: use a .md list or .jsonl")]
    text, errors = _read_utf8(path)
    if text is None:
        return [], errors
    return parse_decline_text(str(path), text, jsonl=path.suffix.lower() == ".jsonl")


def parse_decline_text(
    path: str, text: str, *, jsonl: bool = False
) -> tuple[list[tuple[str, int, str]], list[SourceError]]:
    """parse_declines on a file's text (the console checks a change before writing it)."""
    errors: list[SourceError] = []
    found: list[tuple[str, int, str]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if jsonl:
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(SourceError(path, n, f"invalid JSON: {exc.msg}"))
                continue
            query = value.get("query") if isinstance(value, dict) else None
            if not isinstance(query, str) or not query.strip():
                errors.append(SourceError(path, n, 'expected {"query": "a question"}'))
                continue
        else:
            bullet = BULLET.match(line)
            if bullet is None:
                continue  # headings and prose explain the list; only bullets count
            query = bullet.group("text")
        if len(query) > MAX_DECLINE_CHARS:
            errors.append(SourceError(path, n, f"longer than {MAX_DECLINE_CHARS} characters"))
            continue
        found.append((path, n, " ".join(query.split())))
    return found, errors


def _check_declines(
    declines: list[tuple[str, int, str]], entries: list[FaqEntry]
) -> tuple[list[str], list[SourceError]]:
    """Drop repeats; a question both answered by an entry and listed to decline is an
    error (the editor must say which it is)."""
    asked = {" ".join(q.lower().split()): e.id for e in entries for q in (e.question, *e.questions)}
    kept: list[str] = []
    seen: set[str] = set()
    errors: list[SourceError] = []
    for path, line, query in declines:
        key = query.lower()
        if key in asked:
            errors.append(
                SourceError(path, line, f'"{query}" is also a question of entry "{asked[key]}"')
            )
        elif key not in seen:
            seen.add(key)
            kept.append(query)
    return kept, errors


def _read_utf8(path: Path) -> tuple[str | None, list[SourceError]]:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [SourceError(str(path), line, f"not UTF-8 (byte 0x{raw[exc.start]:02x})")]


def parse_file(path: Path) -> tuple[list[FaqEntry], list[SourceError]]:
    text, errors = _read_utf8(path)
    if text is None:
        return [], errors
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return _parse_jsonl(str(path), text)
    if suffix == ".csv":
        return _parse_csv(str(path), text)
    return parse_markdown_text(str(path), text)


def _drop_duplicates(entries: list[FaqEntry]) -> tuple[list[FaqEntry], list[SourceError]]:
    seen: dict[str, FaqEntry] = {}
    errors: list[SourceError] = []
    kept: list[FaqEntry] = []
    for entry in entries:
        first = seen.get(entry.id)
        if first is not None:
            path, line = _split_source(entry.source)
            errors.append(
                SourceError(
                    path, line, f'duplicate id "{entry.id}" (first defined in {first.source})'
                )
            )
            continue
        seen[entry.id] = entry
        kept.append(entry)
    return kept, errors


def _split_source(source: str) -> tuple[str, int]:
    path, _, line = source.rpartition(":")
    return path, int(line) if line.isdigit() else 0


def _make_entry(
    path: str, line: int, fields: dict[str, Any], errors: list[SourceError]
) -> FaqEntry | None:
    """Validate one entry's fields; append errors and return None when it is unusable."""
    entry_id = str(fields.get("id") or "").strip()
    question = " ".join(str(fields.get("question") or "").split())
    answer = str(fields.get("answer") or "").strip()
    problems = []
    if not entry_id:
        problems.append("missing id")
    elif not ID_PATTERN.match(entry_id):
        problems.append(
            f'invalid id "{entry_id}" (letters, digits, ".", "_", "-"; at most 128 characters)'
        )
    if not question:
        problems.append(f'entry "{entry_id}": empty question')
    if not answer:
        problems.append(f'entry "{entry_id}": empty answer')
    raw_questions = fields.get("questions") or []
    if isinstance(raw_questions, str):
        raw_questions = [raw_questions]
    if not isinstance(raw_questions, list):
        problems.append(f'entry "{entry_id}": "questions" must be a list of strings')
        raw_questions = []
    for problem in problems:
        errors.append(SourceError(path, line, problem))
    if problems:
        return None
    questions: list[str] = []
    for q in raw_questions:
        q_text = " ".join(str(q).split())
        if q_text and q_text != question and q_text not in questions:
            questions.append(q_text)
    return FaqEntry(
        id=entry_id,
        question=question,
        answer=answer,
        questions=tuple(questions),
        title=" ".join(str(fields.get("title") or "").split()),
        category=str(fields.get("category") or "").strip(),
        url=str(fields.get("url") or "").strip(),
        updated=str(fields.get("updated") or "").strip(),
        source=f"{path}:{line}",
    )


def _parse_jsonl(path: str, text: str) -> tuple[list[FaqEntry], list[SourceError]]:
    entries: list[FaqEntry] = []
    errors: list[SourceError] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(SourceError(path, n, f"invalid JSON: {exc.msg}"))
            continue
        if not isinstance(obj, dict):
            errors.append(SourceError(path, n, "expected a JSON object"))
            continue
        unknown = sorted(set(obj) - _ENTRY_KEYS, key=str)
        if unknown:
            errors += [SourceError(path, n, unknown_key("key", k, _ENTRY_KEYS)) for k in unknown]
            continue
        entry = _make_entry(path, n, obj, errors)
        if entry is not None:
            entries.append(entry)
    return entries, errors


def _parse_csv(path: str, text: str) -> tuple[list[FaqEntry], list[SourceError]]:
    entries: list[FaqEntry] = []
    errors: list[SourceError] = []
    reader = csv.DictReader(io.StringIO(text))
    columns = [c for c in reader.fieldnames or [] if c is not None]
    unknown = [
        SourceError(path, 1, unknown_key("column", c, _ENTRY_KEYS))
        for c in columns
        if c not in _ENTRY_KEYS
    ]
    if unknown:
        return [], unknown
    missing = {"id", "question", "answer"} - set(columns)
    if missing:
        return [], [SourceError(path, 1, f"missing column(s): {', '.join(sorted(missing))}")]
    try:
        for row in reader:
            fields: dict[str, Any] = dict(row)
            # Alternate phrasings in one cell: a JSON list, or "|"-separated text.
            alt = (row.get("questions") or "").strip()
            if alt.startswith("["):
                try:
                    fields["questions"] = json.loads(alt)
                except json.JSONDecodeError:
                    errors.append(
                        SourceError(path, reader.line_num, "questions: invalid JSON list")
                    )
                    continue
            else:
                fields["questions"] = [q for q in alt.split("|") if q.strip()]
            entry = _make_entry(path, reader.line_num, fields, errors)
            if entry is not None:
                entries.append(entry)
    except csv.Error as exc:
        errors.append(SourceError(path, reader.line_num, f"malformed CSV: {exc}"))
    return entries, errors


def _split_front_matter(
    path: str, text: str, errors: list[SourceError]
) -> tuple[dict[str, Any] | None, list[str], int]:
    """Returns (front matter, body lines, line number of the first body line)."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, lines, 1
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        errors.append(SourceError(path, 1, "front matter is not closed with '---'"))
        return None, [], 0
    front = lines[1:end]
    try:
        meta = yaml.load("\n".join(front), Loader=_FrontMatterLoader) or {}
    except yaml.YAMLError as exc:
        errors.append(
            SourceError(
                path,
                _yaml_error_line(exc),
                f"broken front matter: {getattr(exc, 'problem', None) or 'invalid YAML'}",
            )
        )
        return None, [], 0
    if not isinstance(meta, dict):
        errors.append(SourceError(path, 1, "front matter must be a YAML mapping"))
        return None, [], 0
    problems = [*_unknown_keys(meta, front), *_bad_dates(meta, front)]
    for line, problem in problems:
        errors.append(SourceError(path, line, problem))
    if problems:
        return None, [], 0
    return meta, lines[end + 1 :], end + 2


class _FrontMatterLoader(yaml.SafeLoader):
    """SafeLoader without timestamps: `updated: 2026-12-32` stays text and is checked
    here with its line, instead of failing inside YAML with "day is out of range"."""


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _yaml_error_line(exc: yaml.YAMLError) -> int:
    """The file's line of a front matter error. A key without its colon is found only on
    the line after it; YAML's context mark is where the key began."""
    mark = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context_mark", None)
    if context is not None and "expected ':'" in str(getattr(exc, "problem", "")):
        mark = context
    return (mark.line + 2) if mark is not None else 1


def _key_line(front: list[str], key: object) -> int:
    """The file's line of a top-level front matter key (the '---' is line 1)."""
    for n, line in enumerate(front, start=2):
        if line.split(":", 1)[0].strip().strip("'\"") == str(key):
            return n
    return 1


def _unknown_keys(meta: dict[Any, Any], front: list[str]) -> Iterator[tuple[int, str]]:
    for key in sorted(set(meta) - _FRONT_KEYS, key=str):
        yield _key_line(front, key), unknown_key("front matter key", key, _FRONT_KEYS)


def unknown_key(what: str, key: object, known: set[str]) -> str:
    """A misspelt key loses its value without a word: name it, and the nearest known one."""
    near = difflib.get_close_matches(str(key), sorted(known), n=1, cutoff=0.6)
    hint = f' (did you mean "{near[0]}"?)' if near else ""
    return f'unknown {what} "{key}"{hint}; known: {", ".join(sorted(known))}'


def _bad_dates(meta: dict[Any, Any], front: list[str]) -> Iterator[tuple[int, str]]:
    value = meta.get("updated")
    if value in (None, ""):
        return
    try:
        date.fromisoformat(str(value).strip())
    except ValueError as exc:
        yield _key_line(front, "updated"), f'updated: "{value}" is not a date YYYY-MM-DD ({exc})'


def parse_markdown_text(path: str, text: str) -> tuple[list[FaqEntry], list[SourceError]]:
    errors: list[SourceError] = []
    meta, body, first_line = _split_front_matter(path, text, errors)
    if meta is None:
        return [], errors
    sections = list(_sections(body, first_line))
    entries: list[FaqEntry] = []
    if not sections:
        # One entry per file: the front matter names it, the body is the answer.
        fields = dict(meta)
        fields.setdefault("question", meta.get("title"))
        if not fields.get("id"):
            fields["id"] = Path(path).stem
        fields["answer"] = "\n".join(body).strip()
        entry = _make_entry(path, 1, fields, errors)
        return ([entry] if entry else []), errors
    if meta.get("id") or meta.get("questions"):
        errors.append(
            SourceError(
                path,
                1,
                "front matter 'id'/'questions' belong to single-entry files; "
                "this file has '##' sections (give each its own {#id} and 'Also asked:')",
            )
        )
        return [], errors
    base_url = str(meta.get("url") or "")
    for line, heading, anchor, lines in sections:
        answer_lines, questions = _split_also_asked(lines)
        entry_id = anchor or _slug(f"{Path(path).stem}-{heading}")
        fields = {
            "id": entry_id,
            "question": heading,
            "title": heading,
            "answer": "\n".join(answer_lines).strip(),
            "questions": questions,
            "category": meta.get("category"),
            "updated": meta.get("updated"),
            "url": f"{base_url}#{entry_id}" if base_url else "",
        }
        entry = _make_entry(path, line, fields, errors)
        if entry is not None:
            entries.append(entry)
    return entries, errors


def _sections(body: list[str], first_line: int) -> Iterator[tuple[int, str, str, list[str]]]:
    """Yield (line number, heading text, {#id} or "", section lines) for each `##` heading."""
    current: tuple[int, str, str, list[str]] | None = None
    in_fence = False
    for offset, line in enumerate(body):
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        match = None if in_fence else HEADING.match(line)
        if match:
            if current is not None:
                yield current
            current = (first_line + offset, match["text"], match["id"] or "", [])
        elif current is not None:
            current[3].append(line)
    if current is not None:
        yield current


def _split_also_asked(lines: list[str]) -> tuple[list[str], list[str]]:
    answer: list[str] = []
    questions: list[str] = []
    collecting = False
    for line in lines:
        if ALSO_ASKED.match(line):
            collecting = True
            continue
        if collecting:
            bullet = BULLET.match(line)
            if bullet:
                questions.append(bullet["text"])
                continue
            if not line.strip():
                continue
            collecting = False
        answer.append(line)
    return answer, questions


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:128]
