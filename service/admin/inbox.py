"""The gap inbox: questions the bot declined, answered in fallback, or that got a thumbs
down, grouped into clusters of similar questions, largest and most recent first.

Clusters come from agglomerative clustering (scikit-learn, average linkage, cosine
distance, cut at ``admin.cluster_distance``) over the same embeddings retrieval uses.
Above a few thousand questions the merge is restricted to each question's nearest
neighbours, which keeps it near linear instead of quadratic in memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import warnings
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa

from service.chat.trace import unpack_vector
from service.db.tables import (
    as_utc,
    chat_messages,
    feedback,
    handoff_messages,
    handoff_requests,
    inbox_dismissed,
)
from service.live_handoff import first_replies

GAP_MODES = ("abstained", "fallback")
SUGGEST_QUESTIONS = 10  # a cluster's most recent questions searched for its suggestion
DENSE_LIMIT = 2000  # above this many distinct questions: a nearest-neighbour graph
NEIGHBOURS = 15


@dataclass(frozen=True)
class Gap:
    id: str  # the message the dismissal refers to (a handoff's id for kind person)
    question: str
    kind: str  # abstained, fallback, thumbs_down, person (a person answered it)
    at: datetime
    retrieved: tuple[str, ...] = ()
    comment: str | None = None
    # the question's embedding kept with the answer's trace, if any (see chat/trace.py)
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)
    draft: str | None = None  # what a person answered (a closed handoff): a draft answer


@dataclass
class Cluster:
    key: str
    questions: list[str]  # distinct, most recent first
    ids: list[str]
    last_at: datetime
    kinds: dict[str, int]
    entries: list[tuple[str, int]]  # entries retrieval considered, most often first
    comments: list[str] = field(default_factory=list)
    suggested: str = ""  # the entry the live version finds for the questions alone
    drafts: list[str] = field(default_factory=list)  # people's answers to these questions

    @property
    def size(self) -> int:
        return len(self.ids)

    def as_dict(self, examples: int = 5) -> dict[str, Any]:
        return {
            "key": self.key,
            "size": self.size,
            "last_at": self.last_at.isoformat(),
            "examples": self.questions[:examples],
            "questions": self.questions,
            "ids": self.ids,
            "kinds": self.kinds,
            "entries": [{"id": e, "count": n} for e, n in self.entries[:5]],
            "comments": self.comments[:10],
            "suggested": self.suggested,
            "drafts": self.drafts[:3],
        }


def declined(since: datetime) -> sa.Select[Any]:
    """Questions answered in a gap mode since then: (id, content, mode, created_at,
    retrieved). A question and its answer are written together, with one timestamp."""
    question, answer = chat_messages.alias("question"), chat_messages.alias("answer")
    together = sa.and_(
        answer.c.session_id == question.c.session_id,
        answer.c.created_at == question.c.created_at,
        answer.c.role == "assistant",
    )
    return (
        sa.select(
            question.c.id,
            question.c.content,
            answer.c.mode,
            answer.c.created_at,
            answer.c.retrieved,
            answer.c.trace,
        )
        .join(answer, together)
        .where(question.c.role == "user", answer.c.mode.in_(GAP_MODES))
        .where(answer.c.created_at >= since)
    )


def load_gaps(engine: sa.Engine, since: datetime, model_id: str = "") -> list[Gap]:
    """Declined, fallback and thumbs-down questions since then, not dismissed; with the
    vectors their answers kept, when made by this embedding model."""
    dismissed = sa.select(inbox_dismissed.c.message_id)
    query = declined(since)
    with engine.connect() as conn:
        rows = conn.execute(query.where(query.selected_columns.id.not_in(dismissed))).all()
        down = conn.execute(
            sa.select(feedback, chat_messages.c.trace)
            .join(chat_messages, chat_messages.c.id == feedback.c.message_id)
            .where(feedback.c.rating == "down", feedback.c.created_at >= since)
            .where(feedback.c.message_id.not_in(dismissed))
        ).all()

    def vector(trace: Any) -> np.ndarray | None:
        return unpack_vector((trace or {}).get("vector"), model_id) if model_id else None

    gaps = [
        Gap(
            r.id,
            r.content,
            r.mode,
            as_utc(r.created_at) or r.created_at,
            entry_ids(r.retrieved),
            vector=vector(r.trace),
        )
        for r in rows
    ]
    gaps += [
        Gap(
            r.message_id,
            r.question,
            "thumbs_down",
            as_utc(r.created_at) or r.created_at,
            entry_ids(r.retrieved),
            r.comment,
            vector(r.trace),
        )
        for r in down
    ]
    return gaps + answered_by_people(engine, since, dismissed)


def answered_by_people(engine: sa.Engine, since: datetime, dismissed: Any) -> list[Gap]:
    """Closed handoffs a person answered: the customer's question, with the person's
    first reply as a draft answer for an FAQ entry (the live check in still_open drops
    those the FAQ now answers)."""
    h, hm = handoff_requests, handoff_messages
    first = first_replies()
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(h.c.id, h.c.message, h.c.closed_at, hm.c.text)
            .join(first, first.c.handoff_id == h.c.id)
            .join(hm, hm.c.id == first.c.first)
            .where(h.c.status == "closed", h.c.closed_at >= since)
            .where(h.c.id.not_in(dismissed))
        ).all()
    return [
        Gap(r.id, r.message, "person", as_utc(r.closed_at) or r.closed_at, draft=r.text)
        for r in rows
    ]


def entry_ids(retrieved: Any) -> tuple[str, ...]:
    """The first three entries a stored retrieval considered."""
    if not isinstance(retrieved, list):
        return ()
    return tuple(str(r.get("id", "")) for r in retrieved if isinstance(r, dict))[:3]


def question_vectors(
    gaps: Sequence[Gap], embed: Callable[[list[str]], np.ndarray]
) -> dict[str, np.ndarray]:
    """Each distinct question's vector: the one its answer kept, else embedded now."""
    kept: dict[str, np.ndarray] = {}
    for g in gaps:
        if g.vector is not None and g.question not in kept:
            kept[g.question] = g.vector
    missing = list(dict.fromkeys(g.question for g in gaps if g.question not in kept))
    if missing:  # questions whose answers kept no vector
        kept.update(zip(missing, embed(missing), strict=True))
    return kept


def cluster_gaps(
    gaps: Sequence[Gap], embed: Callable[[list[str]], np.ndarray], distance: float
) -> list[Cluster]:
    """Similar questions together; the largest and most recent clusters first."""
    if not gaps:
        return []
    texts = list(dict.fromkeys(g.question for g in gaps))
    kept = question_vectors(gaps, embed)
    labels = _labels(np.vstack([kept[t] for t in texts]).astype(np.float32), distance)
    label_of = dict(zip(texts, labels, strict=True))
    groups: dict[int, list[Gap]] = {}
    for g in gaps:
        groups.setdefault(int(label_of[g.question]), []).append(g)
    clusters = [_cluster(members) for members in groups.values()]
    return sorted(clusters, key=lambda c: (-c.size, -c.last_at.timestamp()))


def suggest_entries(
    clusters: Sequence[Cluster],
    retriever: Any,
    vectors: Mapping[str, np.ndarray],
    per_cluster: int = SUGGEST_QUESTIONS,
) -> None:
    """The entry to offer for each cluster: the one the live version ranks highest for
    the cluster's questions searched alone. What retrieval considered when they were
    asked is no guide: it was an older version's, whose entry may since have been
    renamed or removed. vectors: each question's (question_vectors)."""
    for cluster in clusters:
        questions = cluster.questions[:per_cluster]
        totals: dict[str, float] = {}
        for q in questions:
            for hit in retriever.search_embedded(q, vectors[q], top_k=3).hits:
                totals[hit.entry_id] = totals.get(hit.entry_id, 0.0) + max(hit.score, 0.0)
        cluster.suggested = max(totals, key=lambda e: totals[e], default="")


def _labels(vectors: np.ndarray, distance: float) -> np.ndarray:
    if len(vectors) == 1:
        return np.zeros(1, dtype=np.int64)
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.neighbors import kneighbors_graph

    connectivity = None
    if len(vectors) > DENSE_LIMIT:
        connectivity = kneighbors_graph(vectors, NEIGHBOURS, metric="cosine", include_self=False)
    model = AgglomerativeClustering(
        n_clusters=None,
        distance_threshold=distance,
        metric="cosine",
        linkage="average",
        connectivity=connectivity,
    )
    with warnings.catch_warnings():
        # a kNN graph of varied questions has several components; scikit-learn joins them
        warnings.filterwarnings("ignore", message="the number of connected components")
        return np.asarray(model.fit_predict(vectors))


class VectorCache:
    """Question vectors already computed, so that a second look at the inbox embeds only
    the new questions (10,000 questions: 12 s to embed, 7 s to cluster, on 2 cores)."""

    def __init__(self, max_entries: int = 20_000) -> None:
        self._max = max_entries
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed(self, texts: list[str], embed: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        fresh = embed(missing) if missing else np.zeros((0, 0), dtype=np.float32)
        with self._lock:
            for text, vector in zip(missing, fresh, strict=True):
                self._vectors[text] = vector
            for text in texts:
                self._vectors.move_to_end(text)
            out = np.vstack([self._vectors[t] for t in texts])
            while len(self._vectors) > self._max:
                self._vectors.popitem(last=False)
        return out


def still_open(
    gaps: list[Gap], retriever: Any, embed: Callable[[list[str]], np.ndarray]
) -> list[Gap]:
    """Declined questions the live version now answers are closed: an edit (from the
    console or in the markdown) and a publish answered them, so they leave the inbox.
    Their messages stay in the history. Fallbacks and thumbs-down stay: retrieval
    cannot tell whether the answer is now good. The vectors are those the answers
    kept (or the console's cache), so clustering after this embeds nothing again."""
    declined_ones = [g for g in gaps if g.kind in ("abstained", "person")]
    if not declined_ones:
        return gaps
    vectors = question_vectors(declined_ones, embed)
    answered = {
        g.id
        for g in declined_ones
        if not retriever.search_embedded(g.question, vectors[g.question]).abstain
    }
    return [g for g in gaps if g.id not in answered]


def _cluster(members: list[Gap]) -> Cluster:
    members = sorted(members, key=lambda g: g.at, reverse=True)
    ids = sorted(g.id for g in members)
    entries = Counter(e for g in members for e in g.retrieved[:1] if e)
    return Cluster(
        key=hashlib.sha1("\n".join(ids).encode()).hexdigest()[:12],
        questions=list(dict.fromkeys(g.question for g in members)),
        ids=[g.id for g in members],
        last_at=members[0].at,
        kinds=dict(Counter(g.kind for g in members)),
        entries=entries.most_common(),
        comments=[g.comment for g in members if g.comment],
        drafts=[g.draft for g in members if g.draft],
    )


def dismiss(engine: sa.Engine, ids: Sequence[str], user: str, now: datetime) -> int:
    """Hide these questions from the inbox (they stay in the history)."""
    with engine.begin() as conn:
        known = {
            r[0]
            for r in conn.execute(
                sa.select(inbox_dismissed.c.message_id).where(
                    inbox_dismissed.c.message_id.in_(list(ids))
                )
            )
        }
        fresh = [i for i in dict.fromkeys(ids) if i not in known]
    rows = [{"message_id": i, "user_name": user, "dismissed_at": now} for i in fresh]
    if not rows:
        return 0
    try:
        with engine.begin() as conn:
            conn.execute(inbox_dismissed.insert(), rows)
    except sa.exc.IntegrityError:
        # another editor dismissed some of them meanwhile: add the rest one by one
        for row in rows:
            with contextlib.suppress(sa.exc.IntegrityError), engine.begin() as conn:
                conn.execute(inbox_dismissed.insert(), [row])
    return len(rows)


def recent_questions(engine: sa.Engine, since: datetime, limit: int = 5000) -> list[str]:
    """Customers' questions since then, most recent first, each once (for replay)."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(chat_messages.c.content)
            .where(chat_messages.c.role == "user", chat_messages.c.created_at >= since)
            .order_by(chat_messages.c.created_at.desc())
            .limit(limit * 2)
        ).all()
    return list(dict.fromkeys(r[0] for r in rows))[:limit]
