from __future__ import annotations

import json
from pathlib import Path

from service.sources.parse import parse_file, parse_sources


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_markdown_sections_with_ids_and_alternate_phrasings(faq_dir: Path) -> None:
    result = parse_sources([faq_dir])
    assert result.errors == []
    by_id = {e.id: e for e in result.entries}
    assert set(by_id) == {
        "returns-window",
        "returns-label",
        "shipping-countries",
        "shipping-cost",
        "payment-methods",
    }
    window = by_id["returns-window"]
    assert window.question == "How long do I have to return an item?"
    assert window.answer == "You can return unworn items within 30 days of delivery."
    assert window.questions == ("what is the return period", "how many days to send something back")
    assert window.category == "Returns"
    assert window.url == "https://help.example/returns#returns-window"
    assert window.updated == "2026-01-01"
    assert window.source.endswith("returns.md:7")


def test_single_entry_file_uses_front_matter(faq_dir: Path) -> None:
    entry = next(e for e in parse_sources([faq_dir]).entries if e.id == "payment-methods")
    assert entry.question == "Which payment methods do you accept?"
    assert entry.questions == ("can I pay with paypal", "do you take credit cards")
    assert entry.answer == "Visa, Mastercard, PayPal and Klarna invoice."


def test_jsonl_in_the_shared_eval_format(tmp_path: Path) -> None:
    lines = [
        {"id": "a1", "question": "Q one?", "answer": "A one.", "questions": ["q1 alt"]},
        {"id": "a2", "question": "Q two?", "answer": "A two.", "questions": []},
    ]
    path = write(tmp_path / "faqs.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")
    entries, errors = parse_file(path)
    assert errors == []
    assert [e.id for e in entries] == ["a1", "a2"]
    assert entries[0].questions == ("q1 alt",)


def test_csv_with_json_or_pipe_separated_questions(tmp_path: Path) -> None:
    path = write(
        tmp_path / "export.csv",
        "id,question,answer,questions\n"
        'c1,How do I pay?,By card.,"[""pay by card"", ""card payment""]"\n'
        "c2,Do you ship?,Yes.,ship abroad|international delivery\n",
    )
    entries, errors = parse_file(path)
    assert errors == []
    assert entries[0].questions == ("pay by card", "card payment")
    assert entries[1].questions == ("ship abroad", "international delivery")


def test_csv_missing_column_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.csv", "id,question\nx,y\n")
    _, errors = parse_file(path)
    assert [str(e) for e in errors] == [f"{path}:1: missing column(s): answer"]


def test_duplicate_ids_name_both_places(tmp_path: Path) -> None:
    write(tmp_path / "a.md", "---\ncategory: X\n---\n\n## First? {#dup}\nOne.\n")
    write(tmp_path / "b.md", "---\ncategory: X\n---\n\n## Second? {#dup}\nTwo.\n")
    result = parse_sources([tmp_path])
    assert len(result.entries) == 1
    (error,) = result.errors
    assert (
        str(error)
        == f'{tmp_path / "b.md"}:5: duplicate id "dup" (first defined in {tmp_path / "a.md"}:5)'
    )


def test_empty_answer_names_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "a.md", "---\ncategory: X\n---\n\n## Fine? {#ok}\nYes.\n\n## Empty? {#empty}\n\n"
    )
    entries, errors = parse_file(path)
    assert [e.id for e in entries] == ["ok"]
    assert [str(e) for e in errors] == [f'{path}:8: entry "empty": empty answer']


def test_broken_front_matter_reports_the_yaml_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "a.md", "---\ncategory: X\nquestions: [unclosed\n---\n\n## Q? {#q}\nA.\n"
    )
    entries, errors = parse_file(path)
    assert entries == []
    assert len(errors) == 1
    assert str(errors[0]).startswith(f"{path}:")
    assert "broken front matter" in errors[0].message
    assert errors[0].line >= 3


def test_unclosed_front_matter(tmp_path: Path) -> None:
    path = write(tmp_path / "a.md", "---\ncategory: X\n\n## Q? {#q}\nA.\n")
    _, errors = parse_file(path)
    assert [e.message for e in errors] == ["front matter is not closed with '---'"]


def test_non_utf8_file_reports_the_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "latin1.md", "---\ncategory: X\n---\n\n## Caf\xe9? {#c}\nA.\n".encode("latin-1")
    )
    entries, errors = parse_file(path)
    assert entries == []
    assert [str(e) for e in errors] == [f"{path}:5: not UTF-8 (byte 0xe9)"]


def test_invalid_json_line_and_missing_fields(tmp_path: Path) -> None:
    path = write(
        tmp_path / "x.jsonl",
        '{"id": "a", "question": "Q?", "answer": "A."}\n'
        "{not json}\n"
        '{"id": "b", "question": "Q?"}\n',
    )
    entries, errors = parse_file(path)
    assert [e.id for e in entries] == ["a"]
    assert [(e.line, e.message.split(":")[0]) for e in errors] == [
        (2, "invalid JSON"),
        (3, 'entry "b"'),
    ]


def test_missing_path_and_unsupported_type(tmp_path: Path) -> None:
    write(tmp_path / "notes.txt", "hello")
    result = parse_sources([tmp_path / "nope", tmp_path / "notes.txt"])
    assert [e.message for e in result.errors] == [
        "no such file or folder",
        "unsupported file type (use .md, .jsonl or .csv)",
    ]


def test_headings_inside_code_fences_are_not_entries(tmp_path: Path) -> None:
    path = write(
        tmp_path / "a.md",
        "---\ncategory: X\n---\n\n## Real? {#real}\nSee:\n```\n## not a heading\n```\n",
    )
    entries, errors = parse_file(path)
    assert errors == []
    assert [e.id for e in entries] == ["real"]
    assert "## not a heading" in entries[0].answer


def _front_matter_errors(front: str) -> list[str]:
    from service.sources.parse import parse_markdown_text

    entries, errors = parse_markdown_text("data/faq/returns.md", f"---\n{front}---\nBody.\n")
    assert entries == [] or not errors
    return [str(e) for e in errors]


def test_an_impossible_date_names_its_file_and_line() -> None:
    # YAML itself failed here with "day is out of range for month" and no file or line
    errors = _front_matter_errors("title: Returns\nupdated: 2026-12-32\n")
    assert errors == [
        'data/faq/returns.md:3: updated: "2026-12-32" is not a date YYYY-MM-DD '
        "(day is out of range for month)"
    ]


def test_a_key_without_its_colon_is_reported_on_its_own_line() -> None:
    errors = _front_matter_errors("title: Returns\ncategory shipping\nupdated: 2026-12-02\n")
    assert errors == ["data/faq/returns.md:3: broken front matter: could not find expected ':'"]


def test_a_misspelt_key_is_offered_the_nearest_known_one_on_its_line() -> None:
    errors = _front_matter_errors("title: Returns\nurl: /help\ncategroy: shipping\n")
    assert len(errors) == 1
    assert errors[0].startswith('data/faq/returns.md:4: unknown front matter key "categroy"')
    assert '(did you mean "category"?)' in errors[0]


def test_dates_stay_text_as_written() -> None:
    from service.sources.parse import parse_markdown_text

    entries, errors = parse_markdown_text(
        "r.md", "---\ntitle: Returns\nupdated: 2026-12-02\n---\nBody.\n"
    )
    assert errors == [] and entries[0].updated == "2026-12-02"


def test_misspelt_jsonl_keys_and_csv_columns_are_named_with_the_nearest_known_one(
    tmp_path: Path,
) -> None:
    jsonl = tmp_path / "faq.jsonl"
    jsonl.write_text(
        '{"id": "a", "question": "Q?", "answer": "A."}\n'
        '{"id": "b", "question": "R?", "answer": "B.", "questons": ["r"]}\n',
        encoding="utf-8",
    )
    entries, errors = parse_file(jsonl)
    # the misspelt key would have lost its phrasings without a word
    assert [e.id for e in entries] == ["a"]
    assert [str(e) for e in errors] == [
        f'{jsonl}:2: unknown key "questons" (did you mean "questions"?); known: answer, '
        "category, id, question, questions, title, updated, url"
    ]
    sheet = tmp_path / "faq.csv"
    sheet.write_text("id,question,answr\nx,Q?,A.\n", encoding="utf-8")
    entries, errors = parse_file(sheet)
    assert entries == [] and str(errors[0]).startswith(f'{sheet}:1: unknown column "answr"')
    assert '(did you mean "answer"?)' in str(errors[0])
