"""Answer cache keyed by the normalised question and the index version."""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from service.chat.turn import Answer, Retrieved, Suggestion

_PUNCT = re.compile(r"[^\w\s]")


def normalise_question(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_PUNCT.sub(" ", text).split())


@dataclass(frozen=True)
class CachedAnswer:
    answer: Answer
    retrieved: tuple[Retrieved, ...]
    # "did you mean" entries: every customer who asks gets them, not only the first
    suggestions: tuple[Suggestion, ...] = ()


class AnswerStore(Protocol):
    """Answers by normalised question and index version: in process (AnswerCache) or
    shared by replicas (shared_cache.RedisAnswerCache)."""

    def get(self, question: str, version: str) -> CachedAnswer | None: ...

    def put(self, question: str, version: str, record: CachedAnswer) -> None: ...


class AnswerCache:
    def __init__(self, max_entries: int) -> None:
        self._max = max_entries
        self._data: OrderedDict[tuple[str, str], CachedAnswer] = OrderedDict()
        self._version: str | None = None

    def _sync(self, version: str) -> None:
        # A new index version invalidates everything: answers may cite changed entries.
        if version != self._version:
            self._data.clear()
            self._version = version

    def get(self, question: str, version: str) -> CachedAnswer | None:
        self._sync(version)
        key = (normalise_question(question), version)
        record = self._data.get(key)
        if record is not None:
            self._data.move_to_end(key)
        return record

    def put(self, question: str, version: str, record: CachedAnswer) -> None:
        if self._max == 0:
            return
        self._sync(version)
        key = (normalise_question(question), version)
        self._data[key] = record
        self._data.move_to_end(key)
        while len(self._data) > self._max:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)
