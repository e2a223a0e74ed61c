"""An in-memory VectorBackend: exact cosine search over numpy arrays, versions in a dict.
Real code under the same contract as Chroma (tests/contracts), for fast tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from service.retrieval.embedder import Vectors
from service.retrieval.vector_index import StoredRecords, VectorHit, VectorIndex


class MemoryVectorIndex:
    def __init__(self) -> None:
        self._ids: list[str] = []
        self._vectors: Vectors = np.zeros((0, 0), dtype=np.float32)

    def add(self, ids: Sequence[str], embeddings: Vectors) -> None:
        if not ids:
            return
        if len(set(ids)) != len(ids) or set(ids) & set(self._ids):
            raise ValueError("duplicate record ids")
        new = np.asarray(embeddings, dtype=np.float32)
        self._vectors = new if not self._ids else np.vstack([self._vectors, new])
        self._ids += list(ids)

    def delete(self, ids: Sequence[str]) -> None:
        gone = set(ids)
        keep = [i for i, rid in enumerate(self._ids) if rid not in gone]
        self._ids = [self._ids[i] for i in keep]
        self._vectors = self._vectors[keep] if keep else np.zeros((0, 0), dtype=np.float32)

    def get_all(self) -> StoredRecords:
        return StoredRecords(ids=list(self._ids), embeddings=self._vectors.copy())

    def query(self, embedding: Vectors, n: int) -> list[VectorHit]:
        if not self._ids:
            return []
        q = np.asarray(embedding, dtype=np.float32).reshape(-1)
        norms = np.linalg.norm(self._vectors, axis=1) * (np.linalg.norm(q) or 1.0)
        sims = (self._vectors @ q) / np.where(norms == 0, 1.0, norms)
        order = np.argsort(-sims, kind="stable")[: min(n, len(self._ids))]
        return [VectorHit(self._ids[i], float(sims[i])) for i in order]

    def count(self) -> int:
        return len(self._ids)


class MemoryVectorBackend:
    def __init__(self) -> None:
        self._versions: dict[str, MemoryVectorIndex] = {}

    def create(self, version: str) -> VectorIndex:
        if version in self._versions:
            raise ValueError(f"index version {version} exists")
        index = self._versions[version] = MemoryVectorIndex()
        return index

    def fork(self, source: str, version: str) -> VectorIndex:
        original = self.open(source)
        index = self.create(version)
        stored = original.get_all()
        index.add(stored.ids, stored.embeddings)
        return index

    def open(self, version: str) -> VectorIndex:
        try:
            return self._versions[version]
        except KeyError:
            raise FileNotFoundError(f"index version {version}: no vectors") from None

    def drop(self, version: str) -> None:
        self._versions.pop(version, None)

    def versions(self) -> set[str]:
        return set(self._versions)
