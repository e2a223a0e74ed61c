"""One contract for every VectorBackend: embedded Chroma, a Chroma server, and the
in-memory backend the fast tests use."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from service.retrieval.vector_index import (
    EmbeddedChromaBackend,
    HttpChromaBackend,
    VectorBackend,
)
from tests.fakes.hash_embedder import HashEmbedder
from tests.fakes.memory_vectors import MemoryVectorBackend

EMBEDDER = HashEmbedder(64)
TEXTS = {
    "returns::question:0": "how long do I have to return an item",
    "returns::phrasing:0": "return period for jackets",
    "shipping::question:0": "which countries do you ship to",
    "payment::question:0": "can I pay with paypal",
}


def _memory(_: pytest.FixtureRequest, __: Path) -> VectorBackend:
    return MemoryVectorBackend()


def _embedded(_: pytest.FixtureRequest, tmp: Path) -> VectorBackend:
    return EmbeddedChromaBackend(tmp / "versions", EMBEDDER)


def _server(request: pytest.FixtureRequest, _: Path) -> VectorBackend:
    backend = HttpChromaBackend("127.0.0.1", request.getfixturevalue("chroma_server"), EMBEDDER)
    for version in backend.versions():  # the server is shared by the session's tests
        backend.drop(version)
    return backend


IMPLEMENTATIONS: dict[str, Callable[[pytest.FixtureRequest, Path], VectorBackend]] = {
    "memory": _memory,
    "embedded-chroma": _embedded,
    "chroma-server": _server,
}


@pytest.fixture(
    params=[
        pytest.param(name, marks=[] if name == "memory" else [pytest.mark.integration])
        for name in IMPLEMENTATIONS
    ]
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> VectorBackend:
    return IMPLEMENTATIONS[request.param](request, tmp_path)


def _filled(backend: VectorBackend, version: str = "v000001") -> None:
    index = backend.create(version)
    index.add(list(TEXTS), EMBEDDER.embed(list(TEXTS.values())))


class TestVectorBackendContract:
    def test_nearest_vectors_by_cosine(self, backend: VectorBackend) -> None:
        _filled(backend)
        index = backend.open("v000001")
        assert index.count() == 4
        hits = index.query(EMBEDDER.embed(["can I pay with paypal"])[0], 3)
        assert [h.id for h in hits][0] == "payment::question:0"
        assert len(hits) == 3
        assert hits[0].similarity == pytest.approx(1.0, abs=1e-4)
        assert all(a.similarity >= b.similarity for a, b in zip(hits, hits[1:], strict=False))

    def test_asking_for_more_than_there_is_returns_all(self, backend: VectorBackend) -> None:
        _filled(backend)
        hits = backend.open("v000001").query(EMBEDDER.embed(["return"])[0], 50)
        assert sorted(h.id for h in hits) == sorted(TEXTS)

    def test_get_all_returns_ids_with_their_vectors(self, backend: VectorBackend) -> None:
        _filled(backend)
        stored = backend.open("v000001").get_all()
        assert sorted(stored.ids) == sorted(TEXTS)
        expected = EMBEDDER.embed([TEXTS[i] for i in stored.ids])
        assert np.allclose(stored.embeddings, expected, atol=1e-5)

    def test_versions_are_separate_and_dropped(self, backend: VectorBackend) -> None:
        _filled(backend, "v000001")
        backend.create("v000002").add(["x::question:0"], EMBEDDER.embed(["x"]))
        assert {"v000001", "v000002"} <= backend.versions()
        assert backend.open("v000002").count() == 1
        backend.drop("v000001")
        backend.drop("v000001")  # dropping twice is fine
        assert "v000001" not in backend.versions()
        with pytest.raises(Exception):  # noqa: B017 - each backend raises its own kind
            backend.open("v000001").count()

    def test_an_empty_version_answers_no_hits(self, backend: VectorBackend) -> None:
        index = backend.create("v000009")
        assert index.count() == 0 and index.query(EMBEDDER.embed(["x"])[0], 5) == []

    def test_a_fork_is_a_copy_that_changes_alone(self, backend: VectorBackend) -> None:
        _filled(backend, "v000001")
        fork = backend.fork("v000001", "v000002")
        assert fork.count() == 4
        fork.delete(["payment::question:0", "not-there::question:0"])
        fork.add(["gift::question:0"], EMBEDDER.embed(["do you sell gift cards"]))
        assert fork.count() == 4
        reopened = backend.open("v000002")
        assert sorted(reopened.get_all().ids) == sorted(
            [*(set(TEXTS) - {"payment::question:0"}), "gift::question:0"]
        )
        hits = reopened.query(EMBEDDER.embed(["do you sell gift cards"])[0], 1)
        assert hits[0].id == "gift::question:0"
        # the source version is untouched
        assert sorted(backend.open("v000001").get_all().ids) == sorted(TEXTS)
        assert {"v000001", "v000002"} <= backend.versions()

    def test_deleting_everything_leaves_an_empty_version(self, backend: VectorBackend) -> None:
        _filled(backend)
        index = backend.open("v000001")
        index.delete(list(TEXTS))
        assert backend.open("v000001").count() == 0
