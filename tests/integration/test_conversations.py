"""Whole conversations replayed through the chat service on the real embedder and
index (cli/conversations.py, `faqbot eval --conversations`): Northwind's set and the
second shop's, each with a floor a few points below what the shipped defaults measured
(docs/retrieval.md). The sets were written unlike the FAQs' own phrasings, and nothing
was tuned on them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.conversations import ConversationFileError, load_conversations, replay
from ingest.evaluate import temporary_index
from service.config import Settings
from service.retrieval.embedder import OnnxEmbedder

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SETS = {
    # shop: (FAQ, conversations, floor of turns right; measured 0.932 and 0.861)
    "northwind": (ROOT / "data" / "faq", ROOT / "data" / "eval" / "conversations.jsonl", 0.90),
    "velora": (
        ROOT / "tests" / "fixtures" / "velora" / "faq",
        ROOT / "tests" / "fixtures" / "velora" / "conversations.jsonl",
        0.80,
    ),
}


@pytest.mark.parametrize("shop", sorted(SETS))
def test_conversations_are_followed(shop: str, settings: Settings, embedder: OnnxEmbedder) -> None:
    faqs, conversations, floor = SETS[shop]
    with temporary_index(faqs, settings, embedder, log=lambda _: None) as retriever:
        loaded = load_conversations(conversations, set(retriever.manifest.entries))
        report = replay(retriever, loaded, settings)
    kinds = report.by_kind()
    assert report.turns_right >= floor, [o.__dict__ for o in report.wrong]
    # small talk, the handoff and the order flow are recognised, not retrieved
    for kind in ("smalltalk", "handoff", "order"):
        right, total = kinds[kind]
        assert right == total, (kind, [o.__dict__ for o in report.wrong])


def test_a_bad_conversation_file_names_its_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    good = {"turns": [{"message": "hi", "expect": "smalltalk"}]}
    path.write_text(json.dumps(good) + "\n" + json.dumps({"turns": []}) + "\n")
    with pytest.raises(ConversationFileError, match=r"c\.jsonl:2"):
        load_conversations(path)
    path.write_text(json.dumps({"turns": [{"message": "x", "expect": "no-such-entry"}]}))
    with pytest.raises(ConversationFileError, match=r"c\.jsonl:1: \"no-such-entry\""):
        load_conversations(path, {"returns-window"})
    for message in ("   ", "x" * 2001):
        path.write_text(json.dumps({"turns": [{"message": message, "expect": "decline"}]}))
        with pytest.raises(ConversationFileError, match=r"c\.jsonl:1"):
            load_conversations(path, max_chars=2000)
    path.write_bytes(b'{"turns": [{"message": "\xff", "expect": "decline"}]}')
    with pytest.raises(ConversationFileError, match="not UTF-8"):
        load_conversations(path)
