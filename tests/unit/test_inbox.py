"""Clustering the gap inbox and its vector cache, with a deterministic embedder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from service.admin.inbox import Gap, VectorCache, cluster_gaps
from tests.fakes.hash_embedder import HashEmbedder


def test_similar_questions_cluster_largest_and_most_recent_first() -> None:
    embedder = HashEmbedder()
    now = datetime(2026, 11, 27, tzinfo=UTC)
    texts = ["gift wrapping available", "gift wrapping available please", "weather tomorrow"]
    gaps = [
        Gap("a", texts[0], "abstained", now - timedelta(days=2), ("x",)),
        Gap("b", texts[1], "thumbs_down", now - timedelta(days=1), ("x",), "no wrap?"),
        Gap("c", texts[2], "fallback", now),
    ]
    clusters = cluster_gaps(gaps, lambda t: embedder.embed(t), 0.5)
    assert [c.size for c in clusters] == [2, 1]
    first = clusters[0]
    assert first.questions == [texts[1], texts[0]]  # most recent first
    assert first.kinds == {"abstained": 1, "thumbs_down": 1}
    assert first.entries == [("x", 2)] and first.comments == ["no wrap?"]
    assert cluster_gaps([], lambda t: embedder.embed(t), 0.5) == []


def test_the_vector_cache_embeds_each_question_once() -> None:
    embedder = HashEmbedder()
    calls: list[list[str]] = []

    def embed(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        return embedder.embed(texts)

    cache = VectorCache(max_entries=3)
    first = cache.embed(["a b", "c d"], embed)
    again = cache.embed(["c d", "a b", "e f"], embed)
    assert calls == [["a b", "c d"], ["e f"]]
    assert np.allclose(first[0], again[1]) and again.shape == (3, first.shape[1])
    cache.embed(["g h"], embed)  # over the limit: the least recently used ("c d") goes
    cache.embed(["e f", "c d"], embed)
    assert calls[-2:] == [["g h"], ["c d"]]


def test_kept_vectors_are_used_and_only_the_rest_embedded() -> None:
    from service.chat.trace import pack_vector, unpack_vector

    embedder = HashEmbedder()
    now = datetime(2026, 11, 27, tzinfo=UTC)
    kept = embedder.embed(["gift wrapping available"])[0]
    packed = pack_vector(kept, "model-a")
    assert unpack_vector(packed, "model-b") is None  # another model's vector is ignored
    restored = unpack_vector(packed, "model-a")
    assert restored is not None and float(restored @ kept) > 0.999
    gaps = [
        Gap("a", "gift wrapping available", "abstained", now, vector=restored),
        Gap("b", "gift wrapping available please", "abstained", now),
    ]
    asked: list[list[str]] = []

    def embed(texts: list[str]) -> np.ndarray:
        asked.append(texts)
        return embedder.embed(texts)

    [cluster] = cluster_gaps(gaps, embed, 0.5)
    assert asked == [["gift wrapping available please"]] and cluster.size == 2
