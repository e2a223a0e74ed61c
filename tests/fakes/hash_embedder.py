"""A deterministic embedder for fast tests: words hashed into buckets, L2-normalised.
Texts that share words are similar, so retrieval behaves sensibly on small FAQs; nothing
is loaded, and the same text always gets the same vector."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from service.retrieval.embedder import ProgressCallback, Vectors

_WORD = re.compile(r"\w+")


class HashEmbedder:
    def __init__(self, dimension: int = 256) -> None:
        self._dimension = dimension
        self.calls = 0

    @property
    def model_id(self) -> str:
        return f"hash-embedder-{self._dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    def _vector(self, text: str) -> Vectors:
        v = np.zeros(self._dimension, dtype=np.float32)
        words = _WORD.findall(text.lower()) or [""]
        for word in words:
            digest = hashlib.blake2b(word.encode("utf-8", "replace"), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % self._dimension
            v[bucket] += 1.0 if digest[4] & 1 else -1.0
        norm = float(np.linalg.norm(v))
        return v / norm if norm else v

    def embed(self, texts: Sequence[str], *, progress: ProgressCallback | None = None) -> Vectors:
        self.calls += 1
        out = (
            np.stack([self._vector(t) for t in texts])
            if texts
            else np.zeros((0, self._dimension), np.float32)
        )
        if progress is not None:
            progress(len(texts))
        return out.astype(np.float32)
