"""Hybrid retrieval with abstention.

Ranking score per entry (weights in RetrievalSettings, defaults measured on ../shared/eval):

    dense  = w * best sim(query, question or phrasing) + (1 - w) * best sim(query, q+answer chunk)
    score  = dense + classifier_weight * P(entry | query) + lexical_weight * bm25 / best bm25

Confidence, for the abstain decision: sqrt(P(top)) * best cosine of the top entry
(service/retrieval/scoring.py). The thresholds come from the index's calibration, made
at ingest on held-out phrasings and decline examples (ingest/calibration_rules.py),
unless the settings fix them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from service.config import RetrievalSettings
from service.retrieval.calibration import Calibration
from service.retrieval.crosslingual import (
    CROSSLINGUAL_FILE,
    CrossLingual,
    CrossLingualIndex,
    CrossLingualScores,
)
from service.retrieval.embedder import Embedder, Vectors
from service.retrieval.language import TRANSLATION_LANGUAGES
from service.retrieval.lexical import LexicalIndex
from service.retrieval.neighbours import EntryClassifier, load_classifier
from service.retrieval.schema import CLASSIFIER_FILE, LEXICAL_DIR, parse_record_id
from service.retrieval.scoring import confidence as confidence_of
from service.retrieval.scoring import fused_scores
from service.retrieval.spelling import Speller, english_lexicon
from service.retrieval.store import IndexStore, IndexStoreError, Manifest
from service.retrieval.thresholds import first_fixed, resolve
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
    lang: str = "en"  # the language of title, question and answer (a translation's)


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: list[Hit]
    confidence: float
    abstain: bool
    threshold: float
    version: str
    timings_ms: dict[str, float] = field(default_factory=dict)
    margin: float = 0.0  # the top entry's score minus the second's
    canonical_threshold: float = 1.0  # the index's verbatim rule (calibration)
    canonical_margin: float = 0.0
    lang: str = "en"  # the language searched in (another: the cross-lingual path)
    # Below this lead over the second entry, an answer also offers the next entries
    # (the cross-lingual path, whose answers are always the entry's own text).
    ambiguous_margin: float = 0.0
    # The query's vector on the English path (the console clusters questions with it
    # instead of embedding them again); excluded from comparisons and the repr.
    query_vector: Vectors | None = field(default=None, compare=False, repr=False)
    embedding_model: str = ""  # the English path's model, with query_vector

    @property
    def model_id(self) -> str:
        return self.embedding_model

    @property
    def top(self) -> Hit | None:
        return self.hits[0] if self.hits else None

    def certain(self, threshold: float | None = None, margin: float | None = None) -> bool:
        """Sure enough to answer with the top entry's own text: confident and clearly
        ahead of the second entry. Arguments override the calibrated rule."""
        t = first_fixed(threshold, self.canonical_threshold)
        m = first_fixed(margin, self.canonical_margin)
        return not self.abstain and self.confidence >= t and self.margin >= m


class Retriever:
    def __init__(
        self,
        manifest: Manifest,
        vectors: VectorIndex,
        lexical: LexicalIndex,
        classifier: EntryClassifier,
        embedder: Embedder,
        settings: RetrievalSettings,
        crosslingual: CrossLingual | None = None,
        saved: Mapping[str, Any] | None = None,
        lexicon: frozenset[str] = frozenset(),
    ) -> None:
        """saved: the thresholds saved from the console (service/retrieval/thresholds.py
        says which wins). lexicon: English words, never taken for typos (spelling.py);
        without it, queries are searched as written."""
        self.manifest = manifest
        self._crosslingual = crosslingual
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
        self.calibration = _calibration(manifest, settings)
        self.thresholds = resolve(self.calibration, saved or {}, settings.abstain_threshold)
        self._speller = _speller(manifest, lexical, lexicon) if settings.correct_typos else None

    @property
    def abstain_threshold(self) -> float:
        return self.thresholds.abstain

    @property
    def thresholds_source(self) -> str:
        return self.thresholds.source

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
        multilingual: Embedder | None = None,
        crosslingual_threshold: float | None = None,
    ) -> Retriever:
        """With a multilingual encoder, and a version built with one, questions in other
        languages are served too (search(..., lang=...))."""
        manifest = store.manifest(version) if version else store.require_live()
        if manifest.model_id != embedder.model_id:
            raise IndexStoreError(
                f"index version {manifest.version} was built with embedding model "
                f"{manifest.model_id}, but {embedder.model_id} is configured: "
                "run `faqbot ingest --rebuild` (or configure the original model)"
            )
        folder = store.version_dir(manifest.version)
        crosslingual = None
        if multilingual is not None and (folder / CROSSLINGUAL_FILE).is_file():
            crosslingual = CrossLingual(
                CrossLingualIndex.load(folder / CROSSLINGUAL_FILE),
                multilingual,
                crosslingual_threshold,
            )
        return cls(
            manifest,
            backend.open(manifest.version),
            LexicalIndex.load(folder / LEXICAL_DIR),
            load_classifier(folder / CLASSIFIER_FILE),
            embedder,
            settings,
            crosslingual,
            saved=store.saved_thresholds(),
            lexicon=english_lexicon(),
        )

    @property
    def crosslingual_description(self) -> str:
        return "" if self._crosslingual is None else self._crosslingual.index.describe()

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages this version answers: English, and the others when it has the
        cross-lingual index."""
        if self._crosslingual is None:
            return ("en",)
        return ("en", *TRANSLATION_LANGUAGES)

    def __len__(self) -> int:
        return len(self._entry_ids)

    def search(
        self,
        query: str,
        top_k: int | None = None,
        lang: str = "en",
        exclude: frozenset[str] = frozenset(),
    ) -> SearchResult:
        """``exclude``: entries left out of the ranking (a follow-up's search without
        the entry the customer was just given, chat/dialogue.py)."""
        if lang != "en" and self._crosslingual is not None:
            result = self._search_crosslingual(query, lang, self._crosslingual, top_k)
            return _excluding(result, exclude) if exclude else result
        started = time.perf_counter()
        vector = self._embedder.embed([self.spelt(query)])[0]
        embedded = time.perf_counter()
        result = replace(
            self.search_embedded(query, vector, top_k, exclude),
            query_vector=vector,
            embedding_model=self.manifest.model_id,
        )
        result.timings_ms["embed"] = (embedded - started) * 1000
        result.timings_ms["total"] = (time.perf_counter() - started) * 1000
        return result

    def search_without(
        self, result: SearchResult, exclude: frozenset[str], lang: str = "en"
    ) -> SearchResult:
        """``result``'s query searched again without some entries, its embedding reused
        (the English path keeps it on the result; the cross-lingual one embeds again)."""
        if result.query_vector is None:
            return self.search(result.query, lang=lang, exclude=exclude)
        again = self.search_embedded(result.query, result.query_vector, exclude=exclude)
        return replace(again, query_vector=result.query_vector, embedding_model=result.model_id)

    def embed_queries(self, queries: list[str]) -> Vectors:
        """Embed many queries in one call, for batch evaluation."""
        return self._embedder.embed([self.spelt(q) for q in queries])

    def spelt(self, query: str) -> str:
        """The query as it is searched: the customer's typos read as the FAQ's words."""
        return self._speller.correct(query) if self._speller is not None else query

    def search_embedded(
        self,
        query: str,
        vector: Vectors,
        top_k: int | None = None,
        exclude: frozenset[str] = frozenset(),
    ) -> SearchResult:
        """Search with a query vector already computed (batch evaluation embeds all
        queries in one call)."""
        s = self.settings
        k = top_k or s.top_k
        n = len(self._entry_ids)
        t0 = time.perf_counter()
        question_sim, chunk_sim = self._similarities(vector)
        t1 = time.perf_counter()
        raw_probs, calibrated = self._classifier.probabilities(
            vector, self._classifier_sims(question_sim, chunk_sim)
        )
        probs = raw_probs[self._classifier_order]
        lexical = self._lexical.scores(self.spelt(query))[self._lexical_order]
        score = fused_scores(question_sim, chunk_sim, probs, lexical, s)
        for entry_id in exclude:
            if entry_id in self._position:
                score[self._position[entry_id]] = -np.inf
        order = _top(score, min(k, n - len(exclude & self._position.keys())))
        t2 = time.perf_counter()
        ranked = [self._hit(int(i), score, question_sim, chunk_sim, probs, lexical) for i in order]
        confidence = margin = 0.0
        if ranked:
            top = ranked[0]
            best_cos = max(top.question_similarity, top.chunk_similarity)
            p_top = float(calibrated[self._classifier_order[int(order[0])]])
            confidence = float(confidence_of(p_top, best_cos))
            margin = top.score - (ranked[1].score if len(ranked) > 1 else 0.0)
        return SearchResult(
            query=query,
            hits=ranked,
            confidence=confidence,
            abstain=confidence < self.abstain_threshold,
            threshold=self.abstain_threshold,
            version=self.version,
            timings_ms={"vector": (t1 - t0) * 1000, "fuse": (t2 - t1) * 1000},
            margin=margin,
            canonical_threshold=self.thresholds.canonical,
            canonical_margin=self.thresholds.canonical_margin,
        )

    def _similarities(self, vector: Vectors) -> tuple[npt.NDArray[np.float32], ...]:
        """Per entry, the best similarity of its questions and of its answer chunks.
        Entries with no vector among the candidates get the weakest candidate's
        similarity: an upper bound on what they would have scored."""
        n = len(self._entry_ids)
        hits = self._vectors.query(vector, self.settings.vector_candidates)
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
        return question_sim, chunk_sim

    def _search_crosslingual(
        self, query: str, lang: str, cross: CrossLingual, top_k: int | None
    ) -> SearchResult:
        """The multilingual encoder's ranking; titles and answers in the customer's
        language where the FAQ has a translation."""
        started = time.perf_counter()
        vector = cross.encoder.embed([query])[0]
        embedded = time.perf_counter()
        index = cross.index
        scored = index.score(vector)
        # ranked with the classifier; the threshold reads the cosine score of the top entry
        order = _top(scored.ranking, top_k or self.settings.top_k)
        found = (self._translated(index.entry_ids[int(i)], lang, scored, int(i)) for i in order)
        hits = [h for h in found if h is not None]
        confidence = float(scored.scores[order[0]]) if len(order) else 0.0
        ranked = scored.ranking[order]
        margin = float(ranked[0] - ranked[1]) if len(order) > 1 else confidence
        declined = not hits or index.declines_it(scored, int(order[0]), cross.threshold)
        done = time.perf_counter()
        return SearchResult(
            query=query,
            hits=hits,
            confidence=confidence,
            abstain=declined,
            threshold=cross.threshold,
            version=self.version,
            timings_ms={
                "embed": (embedded - started) * 1000,
                "fuse": (done - embedded) * 1000,
                "total": (done - started) * 1000,
            },
            margin=margin,
            # answered at all: with the entry's own text (no extractive step for languages
            # the English sentence model cannot read)
            canonical_threshold=cross.threshold,
            canonical_margin=0.0,
            lang=lang,
            ambiguous_margin=index.suggest_margin,
        )

    def _translated(
        self, entry_id: str, lang: str, scored: CrossLingualScores, i: int
    ) -> Hit | None:
        info = self.manifest.entries.get(entry_id)
        if info is None:
            return None
        text = self.manifest.translations.get(lang, {}).get(entry_id)
        shown = text or info
        return Hit(
            entry_id=entry_id,
            title=shown.title,
            url=shown.url or info.url,
            category=shown.category or info.category,
            question=shown.question,
            answer=shown.answer,
            score=float(scored.ranking[i]),
            question_similarity=float(scored.question_similarity[i]),
            chunk_similarity=0.0,
            classifier=float(scored.classifier[i]),
            lexical=0.0,
            lang=lang if text is not None else "en",
        )

    def _classifier_sims(
        self, question_sim: npt.NDArray[np.float32], chunk_sim: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32] | None:
        """The best cosine per entry in the classifier's order, for the one that reads it."""
        if not self._classifier.uses_similarities:
            return None
        aligned = np.full(len(self._classifier_order), -1.0, dtype=np.float32)
        aligned[self._classifier_order] = np.maximum(question_sim, chunk_sim)
        return aligned

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


def _excluding(result: SearchResult, exclude: frozenset[str]) -> SearchResult:
    """A cross-lingual result without some entries. Its confidence belongs to its top
    entry, so a result whose top was left out has none and declines."""
    hits = [h for h in result.hits if h.entry_id not in exclude]
    if result.top is not None and result.top.entry_id in exclude:
        return replace(result, hits=hits, abstain=True, confidence=0.0, margin=0.0)
    return replace(result, hits=hits)


def _top(score: npt.NDArray[np.floating], k: int) -> npt.NDArray[np.intp]:
    """The k best positions, best first; ties keep manifest order. A partition first:
    sorting all scores costs milliseconds at 100,000 entries."""
    if k <= 0:
        return np.zeros(0, dtype=np.intp)
    if k < len(score):
        part = np.argpartition(-score, k - 1)[:k]
        # argpartition may cut a tie at the k-th score arbitrarily; take all tied ones
        part = np.flatnonzero(score >= score[part].min())
    else:
        part = np.arange(len(score))
    return part[np.argsort(-score[part], kind="stable")][:k]


def _calibration(manifest: Manifest, settings: RetrievalSettings) -> Calibration:
    """The version's calibration; an index built before calibration existed gets the
    defaults (run `faqbot ingest` to calibrate it)."""
    if manifest.calibration:
        return Calibration.from_dict(manifest.calibration)
    return Calibration(
        abstain_threshold=settings.default_abstain_threshold,
        canonical_threshold=settings.default_canonical_threshold,
        canonical_margin=settings.default_canonical_margin,
        temperature=1.0,
        method="index built before calibration: defaults",
    )


def _speller(manifest: Manifest, lexical: LexicalIndex, lexicon: frozenset[str]) -> Speller | None:
    """Off without the English word list: a real word would then pass for a typo."""
    if not lexicon:
        return None
    texts = [f"{e.question} {e.answer}" for e in manifest.entries.values()]
    return Speller.build([*texts, " ".join(lexical.vocabulary)], lexicon)
