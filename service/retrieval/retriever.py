"""Hybrid retrieval with abstention.

Ranking score per entry (weights in RetrievalSettings, defaults measured on ../shared/eval):

    dense  = w * best sim(query, question or phrasing) + (1 - w) * best sim(query, q+answer chunk)
    score  = dense + classifier_weight * P(entry | query) + lexical_weight * bm25 / best bm25

Confidence, for the abstain decision: sqrt(P(top)) * best cosine of the top entry. The
classifier's probability says whether the query is one of this FAQ's questions at all
(it spreads out for off-topic queries), the cosine says how close it came; neither alone
separates in-scope from out-of-scope as well as both (CLINC150: a threshold on the cosine
alone reaches 0.85 / 0.81 in-scope accuracy / out-of-scope recall, this one 0.93 / 0.93).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from service.config import RetrievalSettings
from service.retrieval.classifier import PhrasingClassifier
from service.retrieval.embedder import Embedder, Vectors
from service.retrieval.lexical import LexicalIndex
from service.retrieval.schema import CLASSIFIER_FILE, LEXICAL_DIR, parse_record_id
from service.retrieval.store import IndexStore, IndexStoreError, Manifest
from service.retrieval.vector_index import VectorBackend, VectorIndex


@dataclass(frozen=True)
class Hit:
    entry_id: str
    title: str
    url: str
    category: str
    question: str
    answer: str
    score: float
    question_similarity: float
    chunk_similarity: float
    classifier: float
    lexical: float


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: list[Hit]
    confidence: float
    abstain: bool
    threshold: float
    version: str
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def top(self) -> Hit | None:
        return self.hits[0] if self.hits else None


class Retriever:
    def __init__(
        self,
        manifest: Manifest,
        vectors: VectorIndex,
        lexical: LexicalIndex,
        classifier: PhrasingClassifier,
        embedder: Embedder,
        settings: RetrievalSettings,
    ) -> None:
        self.manifest = manifest
        self.version = manifest.version
        self.settings = settings
        self._vectors = vectors
        self._embedder = embedder
        self._entry_ids = list(manifest.entries)
        self._position = {e: i for i, e in enumerate(self._entry_ids)}
        # Align the lexical and classifier outputs to manifest order once, not per query.
        self._lexical = lexical
        self._lexical_order = self._alignment(lexical.entry_ids)
        self._classifier = classifier
        self._classifier_order = self._alignment(classifier.entry_ids)

    def _alignment(self, ids: list[str]) -> npt.NDArray[np.int64]:
        missing = set(self._entry_ids) - set(ids)
        if missing:
            raise IndexStoreError(
                f"index version {self.version} is inconsistent: derived indexes lack "
                f"{len(missing)} entries (run `faqbot ingest --rebuild`)"
            )
        where = {e: i for i, e in enumerate(ids)}
        return np.array([where[e] for e in self._entry_ids], dtype=np.int64)

    @classmethod
    def open(
        cls,
        store: IndexStore,
        backend: VectorBackend,
        embedder: Embedder,
        settings: RetrievalSettings,
        version: str | None = None,
    ) -> Retriever:
        manifest = store.manifest(version) if version else store.require_live()
        if manifest.model_id != embedder.model_id:
            raise IndexStoreError(
                f"index version {manifest.version} was built with embedding model "
                f"{manifest.model_id}, but {embedder.model_id} is configured: "
                "run `faqbot ingest --rebuild` (or configure the original model)"
            )
        folder = store.version_dir(manifest.version)
        return cls(
            manifest,
            backend.open(manifest.version),
            LexicalIndex.load(folder / LEXICAL_DIR),
            PhrasingClassifier.load(folder / CLASSIFIER_FILE),
            embedder,
            settings,
        )

    def __len__(self) -> int:
        return len(self._entry_ids)

    def search(self, query: str, top_k: int | None = None) -> SearchResult:
        started = time.perf_counter()
        vector = self._embedder.embed([query])[0]
        embedded = time.perf_counter()
        result = self.search_embedded(query, vector, top_k)
        result.timings_ms["embed"] = (embedded - started) * 1000
        result.timings_ms["total"] = (time.perf_counter() - started) * 1000
        return result

    def embed_queries(self, queries: list[str]) -> Vectors:
        """Embed many queries in one call, for batch evaluation."""
        return self._embedder.embed(queries)

    def search_embedded(
        self, query: str, vector: Vectors, top_k: int | None = None
    ) -> SearchResult:
        """Search with a query vector already computed (batch evaluation embeds all
        queries in one call)."""
        s = self.settings
        k = top_k or s.top_k
        n = len(self._entry_ids)
        t0 = time.perf_counter()
        hits = self._vectors.query(vector, s.vector_candidates)
        t1 = time.perf_counter()
        # Entries with no vector among the candidates get the weakest candidate's
        # similarity: an upper bound on what they would have scored.
        floor = min((h.similarity for h in hits), default=0.0)
        question_sim = np.full(n, floor, dtype=np.float32)
        chunk_sim = np.full(n, floor, dtype=np.float32)
        for h in hits:
            entry_id, kind = parse_record_id(h.id)
            pos = self._position.get(entry_id)
            if pos is None:
                continue
            target = chunk_sim if kind == "chunk" else question_sim
            target[pos] = max(target[pos], h.similarity)
        dense = s.question_weight * question_sim + (1 - s.question_weight) * chunk_sim
        raw_probs, calibrated = self._classifier.probabilities(vector)
        probs = raw_probs[self._classifier_order]
        lexical = self._lexical.scores(query)[self._lexical_order]
        score = dense + s.classifier_weight * probs + s.lexical_weight * lexical
        order = np.argsort(-score, kind="stable")[:k]
        t2 = time.perf_counter()
        ranked = [self._hit(int(i), score, question_sim, chunk_sim, probs, lexical) for i in order]
        confidence = 0.0
        if ranked:
            top = ranked[0]
            best_cos = max(top.question_similarity, top.chunk_similarity)
            p_top = float(calibrated[self._classifier_order[int(order[0])]])
            confidence = math.sqrt(max(p_top, 0.0)) * max(best_cos, 0.0)
        return SearchResult(
            query=query,
            hits=ranked,
            confidence=confidence,
            abstain=confidence < s.abstain_threshold,
            threshold=s.abstain_threshold,
            version=self.version,
            timings_ms={"vector": (t1 - t0) * 1000, "fuse": (t2 - t1) * 1000},
        )

    def _hit(
        self,
        i: int,
        score: npt.NDArray[np.float32],
        question_sim: npt.NDArray[np.float32],
        chunk_sim: npt.NDArray[np.float32],
        probs: npt.NDArray[np.float32],
        lexical: npt.NDArray[np.float32],
    ) -> Hit:
        entry_id = self._entry_ids[i]
        info = self.manifest.entries[entry_id]
        return Hit(
            entry_id=entry_id,
            title=info.title,
            url=info.url,
            category=info.category,
            question=info.question,
            answer=info.answer,
            score=float(score[i]),
            question_similarity=float(question_sim[i]),
            chunk_similarity=float(chunk_sim[i]),
            classifier=float(probs[i]),
            lexical=float(lexical[i]),
        )
