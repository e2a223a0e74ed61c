"""`faqbot import FORMAT SOURCE`: a help-center export, a spreadsheet or HTML pages,
merged into a markdown file under data/faq/ for review (ingest publishes it)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cli.common import DEFAULT_FAQ_DIR, EXIT_OK, EXIT_REFUSED, err, say


def add_parser(sub: Any) -> None:
    from ingest.help_center import FORMATS

    p = sub.add_parser(
        "import",
        help="bring in a help center's articles, a spreadsheet or HTML pages as markdown",
        description="Reads a Zendesk, Intercom or Freshdesk articles export (the JSON their "
        "APIs return), a CSV or XLSX sheet (columns question, answer, alternates; id "
        "optional) or HTML pages (a file, a folder, or the URL of a sitemap on the shop's own "
        "host), and merges them into "
        "data/faq/imported-FORMAT.md: ids stay stable across re-imports, phrasings added "
        "by an editor are kept, and nothing changes when the source has not.",
    )
    p.add_argument("format", choices=FORMATS)
    p.add_argument(
        "source", help="the exported file, a folder of HTML pages, or a sitemap's https URL"
    )
    p.add_argument("--into", type=Path, default=DEFAULT_FAQ_DIR, help="the FAQ folder")
    p.add_argument("--file", help="the markdown file's name (default imported-FORMAT.md)")
    p.add_argument("--category", default="Help center", help="the entries' category")
    p.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    p.set_defaults(func=run)


def _progress(done: int, total: int) -> None:
    if done == total or done % 25 == 0:  # a line per 25 pages: visible, not a flood
        say(f"fetched {done}/{total} pages")


def run(args: argparse.Namespace) -> int:
    from ingest.help_center import SourceImportError, read_source
    from ingest.import_markdown import plan_import
    from service.sources.parse import parse_markdown_text
    from service.sources.write import SourceWriteError, write_atomically

    target = args.into / (args.file or f"imported-{args.format}.md")
    try:
        imported = read_source(args.format, args.source, _progress)
        plan = plan_import(target, imported, " ".join(args.category.split()))
    except (SourceImportError, SourceWriteError, ValueError) as exc:
        err(f"import: {exc}")
        return EXIT_REFUSED
    entries, errors = parse_markdown_text(str(target), plan.text)
    if errors or len(entries) != len(imported) + len(plan.gone):
        err(f"import: the file would not read back as written ({errors[:1]}); nothing written")
        return EXIT_REFUSED
    for line in plan.lines():
        print(line)
    if not plan.writes:
        print("nothing to write: the file already says what the source says")
    elif args.dry_run:
        print("dry run: nothing written")
    else:
        write_atomically(target, plan.text)  # the editor's phrasings survive a crash
        say(f"review {target}, then: faqbot ingest {args.into} --dry-run, and publish")
    return EXIT_OK
