"""Dense vectors in Chroma, one collection per index version.

Embedded (default): each version is its own on-disk Chroma folder, so a reader that opens
a published version never shares files with an ingest that is writing the next one.
HTTP (``FAQBOT_INDEX__HOST`` set): each version is a collection ``faq_<version>`` on the
Chroma server. Either way our own embedding function is passed: Chroma's default one
would try to download ONNX weights at run time.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from service.config import IndexSettings
from service.retrieval.embedder import Embedder, Vectors
from service.retrieval.schema import CHROMA_DIR, COLLECTION_PREFIX, VERSIONS_DIR, collection_name


@dataclass(frozen=True)
class VectorHit:
    """A record id (which names its entry and kind, see schema.parse_record_id) and its
    cosine similarity. Metadata is not fetched per query: it costs Chroma more than the
    search itself (measured 8.8 vs 3.9 ms for 100 hits)."""

    id: str
    similarity: float


@dataclass
class StoredRecords:
    ids: list[str]
    embeddings: Vectors


class VectorIndex(Protocol):
    """One index version's vectors."""

    def add(self, ids: Sequence[str], embeddings: Vectors) -> None: ...

    def delete(self, ids: Sequence[str]) -> None:
        """Remove these records; ids that are not there are ignored."""
        ...

    def get_all(self) -> StoredRecords: ...

    def query(self, embedding: Vectors, n: int) -> list[VectorHit]:
        """The n nearest vectors, similarity = cosine."""
        ...

    def count(self) -> int: ...


class VectorBackend(Protocol):
    """Creates, opens and drops index versions."""

    def create(self, version: str) -> VectorIndex: ...

    def fork(self, source: str, version: str) -> VectorIndex:
        """A new version holding a copy of ``source``'s records, ``source`` untouched: an
        edit then changes a few records instead of writing every vector again."""
        ...

    def open(self, version: str) -> VectorIndex: ...

    def drop(self, version: str) -> None: ...

    def versions(self) -> set[str]: ...


class _ChromaEmbeddingFunction:
    """Adapter from our Embedder to Chroma's embedding-function protocol."""

    def __init__(self, embedder: Embedder | None) -> None:
        self._embedder = embedder

    def __call__(self, input: Sequence[str]) -> list[Any]:  # noqa: A002 - Chroma's name
        if self._embedder is None:
            raise RuntimeError("faqbot's embedding function was rebuilt without a model")
        return list(self._embedder.embed(list(input)))

    def embed_query(self, input: Sequence[str]) -> list[Any]:  # noqa: A002
        return self(input)

    @staticmethod
    def name() -> str:
        return "faqbot-sentence-transformers"

    def get_config(self) -> dict[str, Any]:
        return {"model_id": self._embedder.model_id if self._embedder else None}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> _ChromaEmbeddingFunction:
        # Chroma rebuilds the function from the stored config when it reads a collection;
        # faqbot then passes its own, so this placeholder is never called.
        return _ChromaEmbeddingFunction(None)

    def is_legacy(self) -> bool:
        return False

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        return None

    def validate_config_update(
        self, old_config: dict[str, Any], new_config: dict[str, Any]
    ) -> None:
        return None


def _register(cls: type[_ChromaEmbeddingFunction]) -> None:
    """Let Chroma rebuild our function by name when it reads a collection's config."""
    try:
        from chromadb.utils.embedding_functions import register_embedding_function

        register_embedding_function(cls)  # type: ignore[no-untyped-call]
    except (ImportError, ValueError):  # older Chroma, or registered already
        return


_register(_ChromaEmbeddingFunction)


class ChromaVectorIndex:
    def __init__(self, collection: Any) -> None:
        self._collection = collection
        self._count: int | None = None

    def add(self, ids: Sequence[str], embeddings: Vectors) -> None:
        if not ids:
            return
        self._count = None
        batch = self._max_batch()
        for start in range(0, len(ids), batch):
            end = start + batch
            self._collection.add(ids=list(ids[start:end]), embeddings=embeddings[start:end])

    def delete(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        self._count = None
        batch = self._max_batch()
        for start in range(0, len(ids), batch):
            self._collection.delete(ids=list(ids[start : start + batch]))

    def _max_batch(self) -> int:
        try:
            return int(self._collection._client.get_max_batch_size())
        except Exception:  # older clients: a size every version accepts
            return 1000

    def get_all(self) -> StoredRecords:
        got = self._collection.get(include=["embeddings"])
        embeddings = got.get("embeddings")
        if embeddings is None or len(embeddings) == 0:
            return StoredRecords(ids=[], embeddings=np.zeros((0, 0), dtype=np.float32))
        return StoredRecords(ids=list(got["ids"]), embeddings=np.asarray(embeddings, np.float32))

    def query(self, embedding: Vectors, n: int) -> list[VectorHit]:
        count = self.count()
        if count == 0:
            return []
        res = self._collection.query(
            query_embeddings=np.asarray(embedding, dtype=np.float32).reshape(1, -1),
            n_results=min(n, count),
            include=["distances"],
        )
        # Collections use cosine space: distance = 1 - cosine.
        return [
            VectorHit(id=i, similarity=1.0 - float(d))
            for i, d in zip(res["ids"][0], res["distances"][0], strict=True)
        ]

    def count(self) -> int:
        # Cached: a count costs Chroma about 2 ms, and a published version never changes.
        if self._count is None:
            self._count = int(self._collection.count())
        return self._count


def _chroma_settings() -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


class EmbeddedChromaBackend:
    """One PersistentClient folder per version under ``<index>/versions/<v>/chroma``."""

    def __init__(self, versions_dir: Path, embedder: Embedder) -> None:
        self._dir = versions_dir
        self._ef: Any = _ChromaEmbeddingFunction(embedder)

    def _path(self, version: str) -> Path:
        return self._dir / version / CHROMA_DIR

    def _collection(self, version: str, create: bool) -> ChromaVectorIndex:
        import chromadb

        path = self._path(version)
        if not create and not path.is_dir():
            raise FileNotFoundError(f"index version {version}: no vectors at {path}")
        path.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
        name = collection_name(version)
        if create:
            coll = client.create_collection(
                name=name, embedding_function=self._ef, metadata={"hnsw:space": "cosine"}
            )
        else:
            coll = client.get_collection(name=name, embedding_function=self._ef)
        return ChromaVectorIndex(coll)

    def create(self, version: str) -> VectorIndex:
        return self._collection(version, create=True)

    def fork(self, source: str, version: str) -> VectorIndex:
        """A file copy of the source's folder (a published version is never written
        again), its collection renamed: at 10,000 entries 0.6 s against about 50 s to add
        the 50,000 vectors one by one into a new HNSW graph."""
        target = self._path(version)
        if target.exists():
            raise FileExistsError(f"index version {version} exists")
        shutil.copytree(self._path(source), target)
        import chromadb

        client = chromadb.PersistentClient(path=str(target), settings=_chroma_settings())
        coll = client.get_collection(name=collection_name(source), embedding_function=self._ef)
        coll.modify(name=collection_name(version))
        return ChromaVectorIndex(coll)

    def open(self, version: str) -> VectorIndex:
        return self._collection(version, create=False)

    def drop(self, version: str) -> None:
        shutil.rmtree(self._path(version), ignore_errors=True)

    def versions(self) -> set[str]:
        if not self._dir.is_dir():
            return set()
        return {p.parent.name for p in self._dir.glob("*/chroma")}


def _ensure_database(host: str, port: int, database: str) -> None:
    """Create the deployment's database on the Chroma server on first use (the server
    only has its default one)."""
    import chromadb
    from chromadb.config import DEFAULT_TENANT

    settings = _chroma_settings()
    settings.chroma_api_impl = "chromadb.api.fastapi.FastAPI"
    settings.chroma_server_host = host
    settings.chroma_server_http_port = port
    admin = chromadb.AdminClient(settings)
    try:
        admin.get_database(database, DEFAULT_TENANT)
    except Exception:  # chromadb raises NotFoundError, or a generic error on older servers
        admin.create_database(database, DEFAULT_TENANT)


class HttpChromaBackend:
    """Versions as collections on a Chroma server (compose, scale-out)."""

    def __init__(
        self, host: str, port: int, embedder: Embedder, database: str = "default_database"
    ) -> None:
        self._where = (host, port, database)
        self._connected: Any = None
        self._connect_lock = threading.Lock()
        self._ef: Any = _ChromaEmbeddingFunction(embedder)

    @property
    def _client(self) -> Any:
        """Connected on first use, not when the service starts: a Chroma server that is
        down or restarting must not keep the service from starting (it says so in
        /readyz); each later use tries again until one connects."""
        with self._connect_lock:
            if self._connected is None:
                import chromadb

                host, port, database = self._where
                _ensure_database(host, port, database)
                self._connected = chromadb.HttpClient(
                    host=host, port=port, settings=_chroma_settings(), database=database
                )
            return self._connected

    def create(self, version: str) -> VectorIndex:
        name = collection_name(version)
        coll = self._client.create_collection(
            name=name, embedding_function=self._ef, metadata={"hnsw:space": "cosine"}
        )
        return ChromaVectorIndex(coll)

    def fork(self, source: str, version: str) -> VectorIndex:
        """A Chroma server has no collection copy (fork is a Chroma Cloud feature): the
        records are read and written again."""
        index = self.create(version)
        stored = self.open(source).get_all()
        index.add(stored.ids, stored.embeddings)
        return index

    def open(self, version: str) -> VectorIndex:
        coll = self._client.get_collection(
            name=collection_name(version), embedding_function=self._ef
        )
        return ChromaVectorIndex(coll)

    def drop(self, version: str) -> None:
        try:
            self._client.delete_collection(collection_name(version))
        except Exception:  # already gone: dropping is idempotent
            return

    def versions(self) -> set[str]:
        names = [str(getattr(c, "name", c)) for c in self._client.list_collections()]
        return {n[len(COLLECTION_PREFIX) :] for n in names if n.startswith(COLLECTION_PREFIX)}


def make_vector_backend(settings: IndexSettings, embedder: Embedder) -> VectorBackend:
    if settings.host:
        return HttpChromaBackend(settings.host, settings.port, embedder, settings.database)
    return EmbeddedChromaBackend(settings.path / VERSIONS_DIR, embedder)
