"""The two embedding runtimes load the bundled model offline and agree."""

from __future__ import annotations

import numpy as np
import pytest

from service.config import Settings
from service.retrieval.embedder import OnnxEmbedder, SentenceTransformerEmbedder, make_embedder

pytestmark = pytest.mark.integration

TEXTS = [
    "How long do I have to return an item?",
    "return window",
    "Which payment methods do you accept? Visa, Mastercard, PayPal and Klarna invoice. " * 8,
]


def test_onnx_and_torch_give_the_same_normalised_vectors(embedder: OnnxEmbedder) -> None:
    torch_embedder = SentenceTransformerEmbedder(Settings(embedding={"runtime": "torch"}).embedding)
    a = embedder.embed(TEXTS)
    b = torch_embedder.embed(TEXTS)
    assert a.shape == b.shape == (3, 384)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert np.abs(a - b).max() < 1e-4
    assert embedder.model_id == torch_embedder.model_id  # indexes are interchangeable


def test_related_texts_are_closer_than_unrelated_ones(embedder: OnnxEmbedder) -> None:
    q, related, unrelated = embedder.embed(
        ["how many days to send back a jacket", "return window of 30 days", "gift card balance"]
    )
    assert float(q @ related) > float(q @ unrelated) + 0.1


def test_batching_preserves_input_order(embedder: OnnxEmbedder) -> None:
    texts = [f"question number {i} " + "x " * (i % 7) for i in range(70)]
    together = embedder.embed(texts)
    one_by_one = np.vstack([embedder.embed([t]) for t in texts[:5]])
    assert np.abs(together[:5] - one_by_one).max() < 1e-4


def test_settings_choose_the_runtime() -> None:
    assert isinstance(make_embedder(Settings().embedding), OnnxEmbedder)
    torch_settings = Settings(embedding={"runtime": "torch"}).embedding
    assert isinstance(make_embedder(torch_settings), SentenceTransformerEmbedder)


def test_a_folder_without_a_model_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from service.retrieval.embedder import EmbedderError

    with pytest.raises(EmbedderError, match="not a sentence-transformers model folder"):
        OnnxEmbedder(Settings(embedding={"model_path": str(tmp_path)}).embedding)
