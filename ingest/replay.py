"""Replay before publish: the questions customers asked lately (and the gate's) against
the live version and a candidate, and what would change for them: declined questions that
would be answered, answered ones that would be declined, and answers that would come
from another entry. `faqbot ingest --replay` prints it; the console shows it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from service.retrieval.embedder import Vectors
from service.retrieval.language import LanguageDetector, choose_language
from service.retrieval.retriever import Retriever, SearchResult

KINDS = ("now answered", "now declined", "another entry")


@dataclass(frozen=True)
class Change:
    question: str
    kind: str  # one of KINDS
    before: str | None  # the entry answering it now (None: declined)
    after: str | None  # with the candidate


@dataclass
class ReplayReport:
    questions: int
    live: str | None
    candidate: str
    changes: list[Change] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(c.kind for c in self.changes)
        return {k: found.get(k, 0) for k in KINDS}

    def as_dict(self) -> dict[str, object]:
        return {
            "questions": self.questions,
            "live": self.live,
            "candidate": self.candidate,
            "counts": self.counts,
            "changes": [asdict(c) for c in self.changes],
        }

    def lines(self, examples: int = 10) -> list[str]:
        c = self.counts
        out = [
            f"replayed {self.questions} questions against {self.live or '(nothing live)'} "
            f"and the candidate {self.candidate}: {c['now answered']} now answered, "
            f"{c['now declined']} now declined, {c['another entry']} answered from another entry"
        ]
        for kind in KINDS:
            shown = [ch for ch in self.changes if ch.kind == kind][:examples]
            for ch in shown:
                out.append(
                    f"  {kind}: {ch.question[:70]!r} {ch.before or '(declined)'} -> "
                    f"{ch.after or '(declined)'}"
                )
        return out


def replay(
    live: Retriever | None,
    candidate: Retriever,
    questions: Sequence[str],
    detector: LanguageDetector | None = None,
) -> ReplayReport:
    """Each question answered by both versions, routed by language as the service routes
    it. English questions are embedded once for both (the same model)."""
    unique = list(dict.fromkeys(q for q in questions if q.strip()))
    langs = [
        choose_language(detector.detect(q), None, None, candidate.languages) if detector else "en"
        for q in unique
    ]
    english = [i for i, lang in enumerate(langs) if lang == "en"]
    vector_of: dict[int, Vectors] = {}
    if english:
        embedded = candidate.embed_queries([unique[i] for i in english])
        vector_of = dict(zip(english, embedded, strict=True))
    report = ReplayReport(len(unique), live.version if live else None, candidate.version)
    for i, question in enumerate(unique):
        after = _answer(candidate, question, langs[i], vector_of.get(i))
        before = _answer(live, question, langs[i], vector_of.get(i)) if live else None
        kind = _kind(before, after)
        if kind is not None:
            report.changes.append(Change(question, kind, before, after))
    return report


def _answer(retriever: Retriever, question: str, lang: str, vector: Vectors | None) -> str | None:
    """The entry that would answer it, or None when it would be declined."""
    result: SearchResult
    if lang == "en" and vector is not None:
        result = retriever.search_embedded(question, vector)
    else:
        result = retriever.search(question, lang=lang)
    if result.abstain or result.top is None:
        return None
    return result.top.entry_id


def _kind(before: str | None, after: str | None) -> str | None:
    if before == after:
        return None
    if before is None:
        return "now answered"
    if after is None:
        return "now declined"
    return "another entry"
