"""The typed values of one chat turn, shared by the service, the cache, the history store
and the API (which uses TurnRecord as its response model: one definition)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from service.chat.prompt import BuiltPrompt, Turn
from service.retrieval.retriever import SearchResult

Mode = Literal[
    "generated",
    "canonical",
    "extractive",
    "abstained",
    "fallback",
    "order",
    "smalltalk",
    "handoff",
    "human",  # a person's reply (live_handoff.py)
    "waiting",  # the customer wrote while a person holds the conversation: no bot answer
]
# What the page offers with an answer: the handoff form, the order lookup form, or Yes
# and No to a request about an order.
Action = Literal["handoff", "order_lookup", "confirm_request"]
EventKind = Literal["sources", "token", "replace", "done"]


@dataclass(frozen=True)
class SourceRef:
    """An FAQ entry an answer cites; ``n`` is its [n] in the answer."""

    n: int
    id: str
    title: str
    url: str


@dataclass(frozen=True)
class Suggestion:
    """A plausible entry offered as "did you mean" when retrieval declines."""

    id: str
    title: str


@dataclass(frozen=True)
class Retrieved:
    """One candidate retrieval considered, kept with the question for editors."""

    id: str
    score: float


@dataclass
class Timings:
    """Milliseconds per stage; None for a stage the turn did not run."""

    retrieve_ms: float | None = None
    llm_queue_ms: float | None = None
    llm_first_token_ms: float | None = None
    llm_total_ms: float | None = None
    total_ms: float | None = None

    def finished(self, started: float) -> Timings:
        """A rounded copy with the total since `started` (time.perf_counter()) filled in."""

        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 2)

        return Timings(
            r(self.retrieve_ms),
            r(self.llm_queue_ms),
            r(self.llm_first_token_ms),
            r(self.llm_total_ms),
            r((time.perf_counter() - started) * 1000),
        )


@dataclass(frozen=True)
class Answer:
    """What the customer is told, where it came from, and why it is not generated text
    when the model's answer was refused (fallback_reason)."""

    text: str
    mode: Mode
    sources: tuple[SourceRef, ...] = ()
    fallback_reason: str | None = None


@dataclass(frozen=True)
class TurnOutcome:
    """What one turn decided: the answer and everything saved and shown with it.

    cache_key is set when the answer may be kept for the next customer who asks the
    same first question (service.chat.cache)."""

    answer: Answer
    lang: str = "en"  # the customer's language this turn
    suggestions: tuple[Suggestion, ...] = ()
    retrieved: tuple[Retrieved, ...] = ()
    version: str | None = None  # the index version that answered
    cached: bool = False
    action: Action | None = None  # a form the page offers with the answer
    result: SearchResult | None = None  # for the trace (why this answer)
    prompt: BuiltPrompt | None = None
    cache_key: str | None = None


@dataclass(frozen=True)
class Draft:
    """An FAQ question retrieval could answer, for the model to word."""

    message: str
    result: SearchResult
    turns: tuple[Turn, ...]
    lang: str
    retrieved: tuple[Retrieved, ...]
    version: str
    cache_key: str | None


@dataclass(frozen=True)
class Partial:
    """Text the customer may see before the turn is decided: a checked sentence, with
    the sources cited so far."""

    text: str
    sources: tuple[SourceRef, ...]


@dataclass(frozen=True)
class TurnRecord:
    """The API's answer to one message (POST /v1/chat, and the stream's done event)."""

    answer: str
    sources: list[SourceRef]
    mode: Mode
    session_id: str
    message_id: str
    cached: bool
    timings: Timings
    suggestions: list[Suggestion] = field(default_factory=list)
    lang: str = "en"  # the language the customer was answered in
    action: Action | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ChatEvent:
    kind: EventKind
    data: dict[str, Any]


def sources_event(sources: tuple[SourceRef, ...]) -> ChatEvent:
    return ChatEvent("sources", {"sources": [asdict(s) for s in sources]})


def token_event(text: str) -> ChatEvent:
    return ChatEvent("token", {"text": text})


def replace_event(answer: Answer) -> ChatEvent:
    return ChatEvent(
        "replace", {"text": answer.text, "sources": [asdict(s) for s in answer.sources]}
    )
