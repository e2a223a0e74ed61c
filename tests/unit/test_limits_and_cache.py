from __future__ import annotations

import asyncio
import time

import pytest

from service.chat.cache import AnswerCache, normalise_question
from service.chat.limits import GenerationLimiter, Overloaded


def test_limiter_refuses_beyond_the_queue_bound() -> None:
    async def scenario() -> list[str]:
        limiter = GenerationLimiter(max_concurrent=1, max_queue=1, retry_after_s=7)
        release = asyncio.Event()
        outcomes: list[str] = []

        async def user(name: str) -> None:
            try:
                async with limiter.slot(start_by=time.perf_counter() + 60):
                    outcomes.append(f"{name} ran")
                    await release.wait()
            except Overloaded as exc:
                outcomes.append(f"{name} refused {exc.retry_after_s}")

        first = asyncio.create_task(user("a"))
        await asyncio.sleep(0)
        second = asyncio.create_task(user("b"))  # waits in the queue
        await asyncio.sleep(0)
        await user("c")  # queue full: refused at once
        release.set()
        await asyncio.gather(first, second)
        return outcomes

    assert asyncio.run(scenario()) == ["a ran", "c refused 7", "b ran"]


def test_cache_normalises_and_invalidates_on_a_new_version() -> None:
    cache = AnswerCache(max_entries=2)
    cache.put("How long to return?", "v1", {"answer": "30 days"})
    assert cache.get("how long to return", "v1") == {"answer": "30 days"}
    assert cache.get("How long to return?", "v2") is None
    assert len(cache) == 0  # the new version cleared everything
    assert normalise_question("  Ｒeturn ＰOLICY?! ") == "return policy"


def test_cache_evicts_the_least_recently_used() -> None:
    cache = AnswerCache(max_entries=2)
    for q in ("a", "b"):
        cache.put(q, "v1", {"answer": q})
    cache.get("a", "v1")
    cache.put("c", "v1", {"answer": "c"})
    assert cache.get("b", "v1") is None and cache.get("a", "v1") is not None


@pytest.mark.parametrize("size", [0])
def test_a_zero_sized_cache_stores_nothing(size: int) -> None:
    cache = AnswerCache(max_entries=size)
    cache.put("q", "v1", {"answer": "x"})
    assert cache.get("q", "v1") is None
