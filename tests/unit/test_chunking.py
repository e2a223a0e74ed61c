from __future__ import annotations

from ingest.chunking import MAX_CHUNK_WORDS, entry_records, split_answer
from service.retrieval.schema import FaqEntry, parse_record_id


def test_short_entry_gives_question_phrasings_and_one_chunk() -> None:
    entry = FaqEntry(
        id="e1", question="How do I pay?", answer="By card.", questions=("pay", "payment")
    )
    records = entry_records(entry)
    assert [(r.kind, r.text) for r in records] == [
        ("question", "How do I pay?"),
        ("phrasing", "pay"),
        ("phrasing", "payment"),
        ("chunk", "How do I pay?\nBy card."),
    ]
    assert {r.entry_id for r in records} == {"e1"}
    assert {parse_record_id(r.id) for r in records} == {
        ("e1", "question"),
        ("e1", "phrasing"),
        ("e1", "chunk"),
    }
    assert len({r.id for r in records}) == 4


def test_long_answer_is_split_on_paragraphs_with_the_question_on_every_piece() -> None:
    paragraph = " ".join(["word"] * 100) + "."
    answer = "\n\n".join([paragraph] * 4)
    entry = FaqEntry(id="long", question="Long question?", answer=answer)
    chunks = [r for r in entry_records(entry) if r.kind == "chunk"]
    assert len(chunks) == 4
    for chunk in chunks:
        assert chunk.text.startswith("Long question?\n")
        assert len(chunk.text.split()) <= MAX_CHUNK_WORDS + 2


def test_subheadings_start_new_pieces_and_short_ones_are_packed() -> None:
    answer = "Intro.\n\n### Germany\nTwo days.\n\n### Austria\nThree days."
    assert split_answer(answer) == ["Intro.\n\n### Germany\nTwo days.\n\n### Austria\nThree days."]
    assert split_answer(answer, max_words=4) == [
        "Intro.",
        "### Germany\nTwo days.",
        "### Austria\nThree days.",
    ]


def test_single_huge_paragraph_is_cut_on_sentences() -> None:
    sentence = " ".join(["w"] * 50) + "."
    pieces = split_answer(" ".join([sentence] * 10), max_words=120)
    assert all(len(p.split()) <= 120 for p in pieces)
    assert sum(len(p.split()) for p in pieces) == 500


def test_hash_changes_with_content_not_with_source_location() -> None:
    a = FaqEntry(id="x", question="Q?", answer="A.", source="a.md:1")
    b = FaqEntry(id="x", question="Q?", answer="A.", source="b.md:9")
    c = FaqEntry(id="x", question="Q?", answer="A!")
    assert a.content_hash() == b.content_hash()
    assert a.content_hash() != c.content_hash()
