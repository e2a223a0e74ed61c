"""Conversation-level evaluation: whole conversations replayed through the chat service
(dialogue policy, follow-ups, order flow, handoff) on a throwaway index, each turn
checked against what should happen.

File format, JSONL, one conversation a line::

    {"id": "returns-then-voucher", "turns": [
        {"message": "How long do I have to return an item?", "expect": "returns-window"},
        {"message": "voucher", "expect": "giftcards-how"}]}

``expect`` is an entry id (the answer's first source), or one of ``decline``,
``order`` (the order flow answers), ``handoff`` (a person is offered) and
``smalltalk`` (a short reply of its own). No model is called: answers that would be
worded are given as the entry's own text, which cites the same entry.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cli.common import settings_for
from service.config import Settings
from service.llm.base import ChatMessage, GenerationOptions, ModelUnavailable
from service.retrieval.retriever import Retriever

KINDS = ("decline", "order", "handoff", "smalltalk")
MAX_TURNS = 20
# What an answer's mode counts as; other modes are answers, named by their first source.
_MODE_KIND = {
    "abstained": "decline",
    "order": "order",
    "handoff": "handoff",
    "smalltalk": "smalltalk",
}


class ConversationFileError(ValueError):
    """A conversation file that cannot be read, with its file and line."""


@dataclass(frozen=True)
class Step:
    message: str
    expect: str


@dataclass(frozen=True)
class Conversation:
    id: str
    turns: tuple[Step, ...]
    line: int


@dataclass(frozen=True)
class TurnOutcome:
    conversation: str
    turn: int
    message: str
    expect: str
    got: str

    @property
    def right(self) -> bool:
        return self.got == self.expect


@dataclass
class ConversationReport:
    outcomes: list[TurnOutcome] = field(default_factory=list)

    @property
    def turns_right(self) -> float:
        return sum(o.right for o in self.outcomes) / len(self.outcomes) if self.outcomes else 0.0

    @property
    def conversations_right(self) -> float:
        by: dict[str, bool] = {}
        for o in self.outcomes:
            by[o.conversation] = by.get(o.conversation, True) and o.right
        return sum(by.values()) / len(by) if by else 0.0

    @property
    def wrong(self) -> list[TurnOutcome]:
        return [o for o in self.outcomes if not o.right]

    def by_kind(self) -> dict[str, tuple[int, int]]:
        """(right, total) per expected kind ("entry" for any entry id)."""
        out: dict[str, tuple[int, int]] = {}
        for o in self.outcomes:
            kind = o.expect if o.expect in KINDS else "entry"
            right, total = out.get(kind, (0, 0))
            out[kind] = (right + o.right, total + 1)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "turns": len(self.outcomes),
            "turns_right": round(self.turns_right, 4),
            "conversations_right": round(self.conversations_right, 4),
            "by_kind": {k: {"right": r, "total": t} for k, (r, t) in self.by_kind().items()},
            "wrong": [o.__dict__ for o in self.wrong],
        }


def load_conversations(
    path: Path, known_ids: set[str] | None = None, max_chars: int = 2000
) -> list[Conversation]:
    """The file's conversations; every problem names the file and line. A message must
    be one the chat would take (non-blank, at most ``max_chars``: the chat's limit)."""
    found: list[Conversation] = []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConversationFileError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    for n, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        where = f"{path}:{n}"
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConversationFileError(f"{where}: not JSON ({exc.msg})") from None
        turns = data.get("turns") if isinstance(data, dict) else None
        if not isinstance(turns, list) or not 1 <= len(turns) <= MAX_TURNS:
            raise ConversationFileError(f'{where}: "turns" must list 1 to {MAX_TURNS} turns')
        steps = tuple(_step(t, where, known_ids, max_chars) for t in turns)
        found.append(Conversation(str(data.get("id") or f"line-{n}"), steps, n))
    if not found:
        raise ConversationFileError(f"{path}: no conversations")
    return found


def _step(turn: Any, where: str, known_ids: set[str] | None, max_chars: int) -> Step:
    message = turn.get("message") if isinstance(turn, dict) else None
    if not isinstance(message, str) or not message.strip():
        raise ConversationFileError(f'{where}: each turn needs a "message" text')
    if len(message) > max_chars:
        raise ConversationFileError(
            f"{where}: a message of {len(message)} characters; the chat takes at most "
            f"{max_chars} (FAQBOT_CHAT__MAX_MESSAGE_CHARS)"
        )
    expect = turn.get("expect")
    if not isinstance(expect, str) or not expect:
        raise ConversationFileError(f'{where}: each turn needs an "expect"')
    if expect not in KINDS and known_ids is not None and expect not in known_ids:
        raise ConversationFileError(
            f'{where}: "{expect}" is neither an entry of this FAQ nor one of {", ".join(KINDS)}'
        )
    return Step(message, expect)


class _NoModel:
    """Conversation evaluation calls no model: a worded answer falls back to the top
    entry's own text, which cites the same entry."""

    name = "none"
    max_concurrency = 1

    async def check(self) -> None:
        raise ModelUnavailable("no model in conversation evaluation")

    async def stream(
        self, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> AsyncIterator[str]:
        raise ModelUnavailable("no model in conversation evaluation")
        yield ""  # pragma: no cover - makes this an async generator

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    async def close(self) -> None:
        return None


def replay(
    retriever: Retriever, conversations: Sequence[Conversation], settings: Settings
) -> ConversationReport:
    """Every conversation through a ChatService of its own session, in order."""
    return asyncio.run(_replay(retriever, conversations, settings))


async def _replay(
    retriever: Retriever, conversations: Sequence[Conversation], settings: Settings
) -> ConversationReport:
    from service.chat.history import HistoryWriter
    from service.chat.memory_store import MemoryChatStore
    from service.chat.service import ChatService
    from service.retrieval.components import build_detector

    report = ConversationReport()
    with tempfile.TemporaryDirectory(prefix="faqbot-conversations-") as tmp:
        orders, engine = _order_flow(settings, Path(tmp))
        try:
            store = MemoryChatStore()
            history = HistoryWriter(store)
            service = ChatService(
                settings,
                lambda: retriever,
                _NoModel(),
                store,
                orders=orders,
                history=history,
                detector=build_detector(settings),
            )
            for c in conversations:
                session: str | None = None
                for i, step in enumerate(c.turns, start=1):
                    record = await service.answer(step.message, session)
                    session = record["session_id"]
                    await history.settled(record["message_id"], 5.0)
                    report.outcomes.append(
                        TurnOutcome(c.id, i, step.message, step.expect, _what_happened(record))
                    )
        finally:
            engine.dispose()
    return report


def _what_happened(record: dict[str, Any]) -> str:
    kind = _MODE_KIND.get(record["mode"])
    if kind is not None:
        return kind
    sources = record.get("sources") or []
    return str(sources[0]["id"]) if sources else "decline"


def _order_flow(settings: Settings, folder: Path) -> tuple[Any, Any]:
    """The order flow on an empty order database of its own: conversations check that
    the flow answers, not what it finds."""
    from service.db.engine import engine_for
    from service.db.migrations import upgrade
    from service.orders.assistant import OrderAssistant
    from service.orders.repository import OrderRepository

    url = f"sqlite:///{folder / 'orders.db'}"
    upgrade(url)
    engine = engine_for(url, settings.db, settings.orders.db_timeout_s)
    return OrderAssistant(OrderRepository(engine), settings.orders), engine


def evaluate_conversations(args: Any) -> int:
    """`faqbot eval --faqs F --conversations C`: the report, and exit 1 when a turn is
    wrong, so a script or CI can gate on it."""
    from cli.common import EXIT_OK, EXIT_REFUSED, err, say
    from ingest.evaluate import temporary_index
    from ingest.pipeline import IngestError
    from service.retrieval.components import build_embedder

    settings = settings_for(args)
    try:
        with temporary_index(
            Path(args.faqs),
            settings,
            build_embedder(settings),
            log=say,
            declines=Path(args.declines) if args.declines else None,
        ) as retriever:
            conversations = load_conversations(
                Path(args.conversations),
                set(retriever.manifest.entries),
                settings.chat.max_message_chars,
            )
            report = replay(retriever, conversations, settings)
    except (IngestError, ConversationFileError) as exc:
        err(f"eval: {exc}")
        return EXIT_REFUSED
    print(json.dumps(report.to_dict(), ensure_ascii=False) if args.json else describe(report))
    return EXIT_OK if not report.wrong else 1


def describe(report: ConversationReport) -> str:
    lines = [
        f"turns right: {report.turns_right:.3f} of {len(report.outcomes)}; "
        f"conversations right: {report.conversations_right:.3f}"
    ]
    for kind, (right, total) in sorted(report.by_kind().items()):
        lines.append(f"  {kind:10s} {right}/{total}")
    for o in report.wrong:
        lines.append(
            f'  wrong: {o.conversation} turn {o.turn} "{o.message}": '
            f"expected {o.expect}, got {o.got}"
        )
    return "\n".join(lines)


def open_version(pipeline: Any, settings: Settings, version: str) -> Retriever:
    """A version the pipeline built (live or candidate), opened as the service opens it."""
    return Retriever.open(
        pipeline.store,
        pipeline.backend,
        pipeline.embedder,
        settings.retrieval,
        version=version,
        multilingual=pipeline.multilingual,
        crosslingual_threshold=settings.languages.abstain_threshold,
    )


def gated_run(args: Any, settings: Settings, pipeline: Any, paths: list[Path]) -> int:
    """`faqbot ingest --gate-conversations C`: the candidate is built (and gated by
    --gate, if given) without publishing, the conversations are replayed on it, and it
    is published only if enough turns go as expected; else it is removed."""
    from cli.common import EXIT_OK, EXIT_REFUSED, err, say

    report = pipeline.run(
        paths,
        rebuild=args.rebuild,
        skip_invalid=args.skip_invalid,
        gate_questions=Path(args.gate) if args.gate else None,
        publish=False,
        accept_regressions=getattr(args, "accept_regressions", False),
    )
    if report.version is None:
        print("nothing changed; nothing published")
        return EXIT_OK
    try:
        candidate = open_version(pipeline, settings, report.version)
        conversations = load_conversations(
            Path(args.gate_conversations),
            set(candidate.manifest.entries),
            settings.chat.max_message_chars,
        )
        result = replay(candidate, conversations, settings)
    except ConversationFileError as exc:
        pipeline.discard(report.version)
        err(f"ingest: {exc}; nothing was published")
        return EXIT_REFUSED
    for line in describe(result).splitlines():
        say(line)
    floor = settings.gate.min_conversation_turns
    if result.turns_right < floor:
        pipeline.discard(report.version)
        err(
            f"ingest: conversation gate failed: {result.turns_right:.3f} of turns right, "
            f"below the minimum {floor:.3f}; nothing was published"
        )
        return EXIT_REFUSED
    with pipeline.store.lock():
        pipeline.store.publish(report.version)
    report.published = True
    from cli.ingest_commands import print_report

    print_report(report, argparse.Namespace(dry_run=False, verbose=False), settings.gate)
    print(f"conversation gate passed: {result.turns_right:.3f} of turns right")
    return EXIT_OK
