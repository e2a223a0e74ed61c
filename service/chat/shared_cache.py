"""The answer cache in Redis, shared by every worker and replica (FAQBOT_REDIS__URL).

Same contract as the in-process AnswerCache (tests/contracts): keyed by the normalised
question and the index version, so a new version is a new key space and old answers
expire by their time to live. Redis is an optimisation, never a dependency: every call
has a short timeout, a failure is a miss, and after one the cache is skipped for a few
seconds so that a dead Redis costs no request more than one timeout.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from service.chat.cache import CachedAnswer, normalise_question
from service.chat.turn import Answer, Retrieved, SourceRef, Suggestion

log = logging.getLogger("faqbot.cache")
PREFIX = "faqbot:answer:"


def encode(record: CachedAnswer) -> str:
    return json.dumps(
        {
            "answer": asdict(record.answer),
            "retrieved": [asdict(r) for r in record.retrieved],
            "suggestions": [asdict(s) for s in record.suggestions],
        }
    )


def decode(text: str | bytes) -> CachedAnswer:
    data = json.loads(text)
    a = data["answer"]
    answer = Answer(
        a["text"], a["mode"], tuple(SourceRef(**s) for s in a["sources"]), a["fallback_reason"]
    )
    return CachedAnswer(
        answer,
        tuple(Retrieved(**r) for r in data["retrieved"]),
        # entries written before suggestions were kept have none
        tuple(Suggestion(**s) for s in data.get("suggestions", [])),
    )


class RedisAnswerCache:
    def __init__(
        self,
        client: Any,
        ttl_s: int = 3600,
        pause_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = client
        self._ttl_s = ttl_s
        self._pause_s = pause_s
        self._clock = clock
        self._paused_until = 0.0

    @classmethod
    def from_url(cls, url: str, timeout_s: float, ttl_s: int) -> RedisAnswerCache:
        import redis

        client = redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        return cls(client, ttl_s)

    @staticmethod
    def key(question: str, version: str) -> str:
        digest = hashlib.sha256(normalise_question(question).encode()).hexdigest()[:32]
        return f"{PREFIX}{version}:{digest}"

    def _usable(self) -> bool:
        return self._clock() >= self._paused_until

    def _failed(self, exc: Exception) -> None:
        self._paused_until = self._clock() + self._pause_s
        log.warning("answer cache (Redis) unavailable for %.0f s: %s", self._pause_s, exc)

    def get(self, question: str, version: str) -> CachedAnswer | None:
        if not self._usable():
            return None
        try:
            raw = self._redis.get(self.key(question, version))
        except Exception as exc:  # any client error is a miss
            self._failed(exc)
            return None
        if raw is None:
            return None
        try:
            return decode(raw)
        except (ValueError, KeyError, TypeError):
            return None  # written by another faqbot version: a miss

    def put(self, question: str, version: str, record: CachedAnswer) -> None:
        if not self._usable():
            return
        try:
            self._redis.set(self.key(question, version), encode(record), ex=self._ttl_s)
        except Exception as exc:
            self._failed(exc)
