"""One contract for every AnswerStore: the in-process cache and the Redis one that
replicas share behave alike; Redis failing is a miss, never an error."""

from __future__ import annotations

import pytest

from service.chat.cache import AnswerCache, AnswerStore, CachedAnswer
from service.chat.shared_cache import RedisAnswerCache
from service.chat.turn import Answer, Retrieved, SourceRef

RECORD = CachedAnswer(
    Answer(
        "Returns are free within 30 days.",
        "canonical",
        (SourceRef(1, "returns-window", "How long?", "https://help.example/returns"),),
        None,
    ),
    (Retrieved("returns-window", 0.91), Retrieved("exchanges", 0.4)),
)


@pytest.fixture(
    params=["memory", pytest.param("redis", marks=pytest.mark.integration)],
)
def cache(request: pytest.FixtureRequest) -> AnswerStore:
    if request.param == "memory":
        return AnswerCache(100)
    url = request.getfixturevalue("redis_url")
    return RedisAnswerCache.from_url(url, timeout_s=1.0, ttl_s=60)


class TestAnswerStoreContract:
    def test_a_miss_then_the_same_record_for_the_same_question(self, cache: AnswerStore) -> None:
        assert cache.get("How long do I have?", "v000001") is None
        cache.put("How long do I have?", "v000001", RECORD)
        assert cache.get("How long do I have?", "v000001") == RECORD

    def test_questions_match_after_normalising(self, cache: AnswerStore) -> None:
        cache.put("How long do I have?", "v000001", RECORD)
        assert cache.get("  how LONG do i have ", "v000001") == RECORD
        assert cache.get("How long do I have to wait?", "v000001") is None

    def test_another_index_version_is_a_miss(self, cache: AnswerStore) -> None:
        cache.put("How long do I have?", "v000001", RECORD)
        assert cache.get("How long do I have?", "v000002") is None


def test_two_replicas_share_answers_through_redis(redis_url: str) -> None:
    one = RedisAnswerCache.from_url(redis_url, timeout_s=1.0, ttl_s=60)
    two = RedisAnswerCache.from_url(redis_url, timeout_s=1.0, ttl_s=60)
    one.put("Do you ship to Norway?", "v000003", RECORD)
    assert two.get("do you ship to norway", "v000003") == RECORD


class _DeadRedis:
    calls = 0

    def get(self, key: str) -> bytes:
        self.calls += 1
        raise ConnectionError("connection refused")

    def set(self, key: str, value: str, ex: int) -> None:
        self.calls += 1
        raise ConnectionError("connection refused")


def test_a_failing_redis_is_a_miss_and_is_left_alone_for_a_while() -> None:
    now = [0.0]
    dead = _DeadRedis()
    cache = RedisAnswerCache(dead, ttl_s=60, pause_s=5.0, clock=lambda: now[0])
    assert cache.get("q", "v1") is None
    cache.put("q", "v1", RECORD)
    assert cache.get("q", "v1") is None
    assert dead.calls == 1  # one timeout, then skipped
    now[0] = 6.0
    assert cache.get("q", "v1") is None and dead.calls == 2


@pytest.mark.integration
def test_an_unreachable_redis_is_a_miss_not_an_error() -> None:
    cache = RedisAnswerCache.from_url("redis://127.0.0.1:1/0", timeout_s=0.05, ttl_s=60)
    assert cache.get("q", "v1") is None
    cache.put("q", "v1", RECORD)  # no exception
    assert cache.get("q", "v1") is None
