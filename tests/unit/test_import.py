"""`faqbot import`: help-center exports in the JSON their APIs document (Zendesk,
Intercom, Freshdesk), spreadsheets (CSV, XLSX) and HTML pages become markdown under
data/faq/ that the FAQ parser reads; ids stay stable, an editor's phrasings survive a
re-import, and a re-import of an unchanged source changes nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cli.main import main
from ingest.help_center import SourceImportError, read_source
from service.sources.parse import parse_sources

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"


@pytest.mark.parametrize(
    ("fmt", "source", "expected"),
    [
        (
            "zendesk",
            "zendesk_articles.json",
            {
                "zendesk-360001234567": "How long do I have to return an item?",
                "zendesk-360001234569": "Do you ship to Switzerland?",
            },
        ),
        (
            "intercom",
            "intercom_articles.json",
            {"intercom-6871119": "Can I change my delivery address?"},
        ),
        (
            "freshdesk",
            "freshdesk_articles.json",
            {"freshdesk-1000012345": "Which payment methods do you accept?"},
        ),
        (
            "csv",
            "faq.csv",
            {
                "how-do-i-care-for-a-wool-blanket": "How do I care for a wool blanket?",
                "do-the-candles-contain-paraffin": "Do the candles contain paraffin?",
            },
        ),
        ("html", "pages", {"page-returns-policy": "Can I return a rug after using it?"}),
    ],
)
def test_each_format_is_read_without_drafts_or_markup(
    fmt: str, source: str, expected: dict[str, str]
) -> None:
    entries = read_source(fmt, FIXTURES / source)
    assert {e.id: e.question for e in entries} == expected  # drafts are not answers yet
    for entry in entries:
        assert "<" not in entry.answer and "track()" not in entry.answer
        assert "Home & Hearth" not in entry.answer  # the page's header and footer


def test_html_becomes_readable_text() -> None:
    by_id = {e.id: e for e in read_source("zendesk", FIXTURES / "zendesk_articles.json")}
    returns = by_id["zendesk-360001234567"].answer
    assert returns == (
        "You can return unused items within 30 days of delivery.\n\n"
        "- Keep the original packaging.\n- Print the label from your account."
    )
    # a heading inside an answer must not become a section of our markdown
    swiss = by_id["zendesk-360001234569"].answer
    assert swiss.startswith("Shipping to Switzerland") and "3–5 working days & costs CHF 9" in swiss


def test_a_spreadsheet_brings_its_alternates(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["id", "question", "answer", "alternates"])
    sheet.append(
        ["wool-care", "How do I care for wool?", "By hand, cold.", "wash wool\nclean wool"]
    )
    sheet.append([None, None, None, None])  # blank rows are common at a sheet's end
    book.save(tmp_path / "faq.xlsx")
    [entry] = read_source("xlsx", tmp_path / "faq.xlsx")
    assert (entry.id, entry.alternates) == ("wool-care", ("wash wool", "clean wool"))
    [first, _] = read_source("csv", FIXTURES / "faq.csv")
    assert first.alternates == ("can I machine wash the wool throw", "how to clean a wool blanket")


def test_broken_sources_name_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "articles.json"
    bad.write_text('{"articles": [\n  {"id": 1,}\n]}', encoding="utf-8")
    with pytest.raises(SourceImportError, match=r"articles.json:2: invalid JSON"):
        read_source("zendesk", bad)
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"items": []}', encoding="utf-8")
    with pytest.raises(SourceImportError, match='expected a "articles" list'):
        read_source("zendesk", wrong)
    sheet = tmp_path / "s.csv"
    sheet.write_text("title,body\nx,y\n", encoding="utf-8")
    with pytest.raises(SourceImportError, match=r"s.csv:1: missing column\(s\): answer, question"):
        read_source("csv", sheet)


def test_re_import_merges_keeps_phrasings_and_changes_nothing_when_nothing_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    faq = tmp_path / "faq"
    source = tmp_path / "articles.json"
    shutil.copy(FIXTURES / "zendesk_articles.json", source)
    assert main(["import", "zendesk", str(source), "--into", str(faq)]) == 0
    target = faq / "imported-zendesk.md"
    parsed = parse_sources([faq])
    assert parsed.errors == [] and len(parsed.entries) == 2
    assert "2 added" in capsys.readouterr().out

    # nothing changed in the source: the file is not touched
    before, stamp = target.read_text(encoding="utf-8"), target.stat().st_mtime_ns
    assert main(["import", "zendesk", str(source), "--into", str(faq)]) == 0
    assert "nothing to write" in capsys.readouterr().out
    assert target.read_text(encoding="utf-8") == before and target.stat().st_mtime_ns == stamp

    # an editor adds a phrasing; the help center changes an answer and drops an article
    target.write_text(
        before.replace(
            "- Print the label from your account.\n",
            "- Print the label from your account.\n\nAlso asked:\n- can I send boots back\n",
            1,
        ),
        encoding="utf-8",
    )
    data = json.loads(source.read_text(encoding="utf-8"))
    data["articles"][0]["body"] = "<p>You can return unused items within 45 days.</p>"
    data["articles"] = [a for a in data["articles"] if a["id"] != 360001234569]
    source.write_text(json.dumps(data), encoding="utf-8")
    assert main(["import", "zendesk", str(source), "--into", str(faq), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "changed: zendesk-360001234567" in out and "gone: zendesk-360001234569" in out
    assert "dry run" in out and "can I send boots back" in target.read_text(encoding="utf-8")
    assert main(["import", "zendesk", str(source), "--into", str(faq)]) == 0
    entries = {e.id: e for e in parse_sources([faq]).entries}
    returns = entries["zendesk-360001234567"]
    assert returns.answer == "You can return unused items within 45 days."
    assert returns.questions == ("can I send boots back",)  # the editor's phrasing stays
    assert "zendesk-360001234569" in entries  # kept for an editor to delete, not dropped


@pytest.mark.parametrize("category", ["Returns: all", "#1 topics", '"quoted', "id: evil"])
def test_a_category_yaml_would_misread_is_written_quoted(tmp_path: Path, category: str) -> None:
    faq = tmp_path / "faq"
    assert (
        main(
            ["import", "csv", str(FIXTURES / "faq.csv"), "--into", str(faq), "--category", category]
        )
        == 0
    )
    parsed = parse_sources([faq])
    assert parsed.errors == [] and {e.category for e in parsed.entries} == {category}


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("Fine question?", "line one\n## Injected section {#x}\nmore"),
        ("Fine question?", "Also asked:\n- a phrasing nobody wrote"),
    ],
)
def test_text_that_would_change_the_markdown_is_refused_and_nothing_is_written(
    tmp_path: Path, question: str, answer: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import csv

    sheet = tmp_path / "faq.csv"
    with sheet.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["question", "answer"], [question, answer]])
    faq = tmp_path / "faq"
    assert main(["import", "csv", str(sheet), "--into", str(faq)]) == 1
    assert "import:" in capsys.readouterr().err
    assert not faq.exists()


def test_a_missing_or_empty_source_is_refused_in_words(tmp_path: Path) -> None:
    for fmt in ("html", "zendesk", "csv", "xlsx"):
        with pytest.raises(SourceImportError, match="no such file or folder"):
            read_source(fmt, tmp_path / "missing")
    page = tmp_path / "untitled.html"
    page.write_text("<p>text, but no title or heading</p>", encoding="utf-8")
    with pytest.raises(SourceImportError, match="nothing to import"):
        read_source("html", page)
