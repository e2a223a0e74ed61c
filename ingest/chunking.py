"""Entries become index records: the question, each alternate phrasing, and the
question + answer text, split into pieces when the answer is long."""

from __future__ import annotations

import re

from service.retrieval.schema import FaqEntry, IndexRecord, RecordKind, record_id

# all-MiniLM-L6-v2 reads at most 256 word pieces; about 170 words stay clear of that
# with the question repeated on every piece.
MAX_CHUNK_WORDS = 170
_SUBHEADING = re.compile(r"^#{3,6}\s+")


def split_answer(answer: str, max_words: int = MAX_CHUNK_WORDS) -> list[str]:
    """Split on sub-headings and paragraphs; pack pieces up to max_words each.
    A single paragraph longer than the limit is cut on sentence ends."""
    blocks: list[str] = []
    current: list[str] = []
    for line in answer.splitlines():
        if _SUBHEADING.match(line) or not line.strip():
            if current:
                blocks.append("\n".join(current).strip())
                current = []
            if line.strip():
                current.append(line)
        else:
            current.append(line)
    if current:
        blocks.append("\n".join(current).strip())
    pieces: list[str] = []
    for block in blocks:
        pieces.extend(_cut_long(block, max_words))
    packed: list[str] = []
    for piece in pieces:
        if packed and _words(packed[-1]) + _words(piece) <= max_words:
            packed[-1] = f"{packed[-1]}\n\n{piece}"
        else:
            packed.append(piece)
    return packed or [answer.strip()]


def _words(text: str) -> int:
    return len(text.split())


def _cut_long(block: str, max_words: int) -> list[str]:
    if _words(block) <= max_words:
        return [block]
    out: list[str] = []
    current = ""
    for sentence in re.split(r"(?<=[.!?])\s+", block):
        for part in _hard_wrap(sentence, max_words):
            if current and _words(current) + _words(part) > max_words:
                out.append(current)
                current = part
            else:
                current = f"{current} {part}".strip()
    if current:
        out.append(current)
    return out


def _hard_wrap(sentence: str, max_words: int) -> list[str]:
    words = sentence.split()
    return [" ".join(words[i : i + max_words]) for i in range(0, len(words), max_words)]


def entry_records(entry: FaqEntry) -> list[IndexRecord]:
    def record(kind: RecordKind, n: int, text: str) -> IndexRecord:
        return IndexRecord(id=record_id(entry.id, kind, n), entry_id=entry.id, kind=kind, text=text)

    records = [record("question", 0, entry.question)]
    records.extend(record("phrasing", i, q) for i, q in enumerate(entry.questions))
    records.extend(
        record("chunk", i, f"{entry.question}\n{piece}")
        for i, piece in enumerate(split_answer(entry.answer))
    )
    return records
