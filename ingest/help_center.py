"""Readers for the content shops already keep elsewhere: help-center exports (Zendesk,
Intercom, Freshdesk, in the JSON their APIs return), spreadsheets of question, answer
and alternates (CSV, XLSX), and HTML help pages (files, or the pages a sitemap lists).
Each yields ImportedEntry values with ids taken from the source's own ids, so a
re-import finds the same entries again.
Drafts are skipped: they are not answers yet."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from ingest.sitemap import FetchedPage, SitemapError, fetch_pages, is_url

FORMATS = ("zendesk", "intercom", "freshdesk", "csv", "xlsx", "html")


class SourceImportError(ValueError):
    """The source cannot be read; the message names the file (and line or item)."""


@dataclass(frozen=True)
class ImportedEntry:
    id: str
    question: str
    answer: str
    alternates: tuple[str, ...] = ()


def read_source(
    fmt: str, source: str | Path, progress: Callable[[int, int], None] = lambda d, t: None
) -> list[ImportedEntry]:
    """The entries of a file or folder, or for HTML also of a sitemap's URL."""
    if fmt == "html" and is_url(str(source)):
        try:
            pages = fetch_pages(str(source), progress=progress)
        except SitemapError as exc:
            raise SourceImportError(str(exc)) from exc
        return _checked(str(source), list(_web_pages(pages)))
    path = Path(source)
    readers: dict[str, Callable[[Path], Iterable[ImportedEntry]]] = {
        "zendesk": _zendesk,
        "intercom": _intercom,
        "freshdesk": _freshdesk,
        "csv": _csv,
        "xlsx": _xlsx,
        "html": _html_pages,
    }
    if fmt not in readers:
        raise SourceImportError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
    if not path.exists():
        raise SourceImportError(f"{path}: no such file or folder")
    return _checked(str(path), list(readers[fmt](path)))


def _checked(path: str, found: list[ImportedEntry]) -> list[ImportedEntry]:
    entries = [e for e in found if e.question and e.answer]
    if not entries:
        raise SourceImportError(
            f"{path}: nothing to import (no published item with both a title and a text)"
        )
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            raise SourceImportError(f"{path}: two items share the id {entry.id!r}")
        seen.add(entry.id)
    return entries


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceImportError(f"{path}: cannot be read ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise SourceImportError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from exc


def _items(path: Path, data: Any, key: str | None) -> list[dict[str, Any]]:
    items = data.get(key) if key is not None and isinstance(data, dict) else data
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        where = f'a "{key}" list' if key else "a list"
        raise SourceImportError(f"{path}: expected {where} of articles, as the API returns")
    return items


def _zendesk(path: Path) -> Iterator[ImportedEntry]:
    """GET /api/v2/help_center/articles.json: {"articles": [{id, title, body (HTML),
    draft, ...}], "next_page": ...}."""
    for item in _items(path, _json(path), "articles"):
        if not item.get("draft"):
            yield _article("zendesk", item, item.get("body"))


def _intercom(path: Path) -> Iterator[ImportedEntry]:
    """GET /articles: {"type": "list", "data": [{id, title, body (HTML), state}]}."""
    for item in _items(path, _json(path), "data"):
        if item.get("state", "published") == "published":
            yield _article("intercom", item, item.get("body"))


def _freshdesk(path: Path) -> Iterator[ImportedEntry]:
    """GET /api/v2/solutions/folders/{id}/articles: [{id, title, description (HTML),
    description_text, status (1 draft, 2 published)}]."""
    for item in _items(path, _json(path), None):
        if item.get("status", 2) == 2:
            yield _article("freshdesk", item, item.get("description"))


def _article(source: str, item: dict[str, Any], html: object) -> ImportedEntry:
    if "id" not in item:
        raise SourceImportError(f"{source}: an article without an id ({str(item)[:60]})")
    return ImportedEntry(
        f"{source}-{_slug(str(item['id']))}",
        " ".join(str(item.get("title") or "").split()),
        html_to_text(str(html or "")),
    )


def _table(path: Path, rows: Iterable[list[str]]) -> Iterator[ImportedEntry]:
    """question, answer, alternates (one per line or separated by "|"); id optional."""
    rows = iter(rows)
    header = [h.strip().lower() for h in next(rows, [])]
    missing = {"question", "answer"} - set(header)
    if missing:
        raise SourceImportError(f"{path}:1: missing column(s): {', '.join(sorted(missing))}")
    for row in rows:
        cells = dict(zip(header, (str(c or "").strip() for c in row), strict=False))
        question = " ".join(cells.get("question", "").split())
        alternates = re.split(r"\s*(?:\||\n)\s*", cells.get("alternates", ""))
        yield ImportedEntry(
            _slug(cells.get("id") or question),
            question,
            cells.get("answer", ""),
            tuple(" ".join(a.split()) for a in alternates if a.strip()),
        )


def _csv(path: Path) -> Iterator[ImportedEntry]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceImportError(f"{path}: cannot be read as UTF-8 ({exc})") from exc
    yield from _table(path, csv.reader(io.StringIO(text)))


def _xlsx(path: Path) -> Iterator[ImportedEntry]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a file that is not XLSX
        raise SourceImportError(f"{path}: not an XLSX workbook ({type(exc).__name__})") from exc
    sheet = book.worksheets[0]
    rows = (
        [("" if c is None else str(c)) for c in row] for row in sheet.iter_rows(values_only=True)
    )
    yield from _table(path, rows)


def _html_pages(path: Path) -> Iterator[ImportedEntry]:
    """A help page per file (or a folder of them): the <h1> (else <title>) is the
    question, the rest of the main text the answer; the file name is the id."""
    files = sorted(path.rglob("*.htm*")) if path.is_dir() else [path]
    for file in files:
        yield _page_entry(_slug(file.stem), file.read_text(encoding="utf-8", errors="replace"))


def _web_pages(pages: list[FetchedPage]) -> Iterator[ImportedEntry]:
    """A page per sitemap URL: ids from the URL's last segment, as a file's name gives
    them, so pages once imported as files keep their ids; the whole path where two
    pages' last segments are the same."""
    stems = [_slug(PurePosixPath(urlsplit(p.url).path).stem) for p in pages]
    shared = Counter(stems)
    for page, stem in zip(pages, stems, strict=True):
        if shared[stem] > 1 or stem == "entry":
            stem = _slug(urlsplit(page.url).path.rsplit(".", 1)[0])
        yield _page_entry(stem, page.html)


def _page_entry(stem: str, html: str) -> ImportedEntry:
    page = _Page()
    page.feed(html)
    return ImportedEntry(f"page-{stem}", " ".join((page.h1 or page.title).split()), page.text())


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:100] or "entry"


BLOCKS = {"p", "div", "li", "br", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "ul", "ol"}


class _Text(HTMLParser):
    """HTML to the plain text of an answer: paragraphs, list items as bullets, no markup,
    scripts or styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "nav", "footer", "header"):
            self._skip += 1
        elif tag in BLOCKS:
            paragraph = tag in ("p", "ul", "ol")
            self.parts.append("\n- " if tag == "li" else "\n\n" if paragraph else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "nav", "footer", "header"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)

    def text(self) -> str:
        lines = [" ".join(line.split()) for line in "".join(self.parts).splitlines()]
        # a line that would read as a heading, fence or phrasing list in our markdown
        lines = [re.sub(r"^(#+|```+|also asked:)\s*", "", ln, flags=re.I) for ln in lines]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


class _Page(_Text):
    def __init__(self) -> None:
        super().__init__()
        self.title = self.h1 = ""
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("title", "h1") and not getattr(self, tag):
            self._in = tag
            return
        super().handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None
            return
        super().handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        if self._in is not None:
            setattr(self, self._in, getattr(self, self._in) + data)
        else:
            super().handle_data(data)


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return parser.text()
