"""The gate's labelled questions, compared question by question between the live version
and a candidate: what the candidate would break (regressions), mend (improvements) and
merely change (neutral). A gate that only looks at the totals lets four questions go
from the right entry to a wrong one while recall@1 stays above its minimum."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from service.retrieval.evaluation import LabelledQuery, Outcome, run_queries, summarize
from service.retrieval.language import LanguageDetector
from service.retrieval.retriever import Retriever

DECLINED = None


@dataclass(frozen=True)
class Verdict:
    """One labelled question, with the answer of each version (None: declined)."""

    question: str
    expected: str | None  # the entry that should answer it; None: it should be declined
    before: str | None
    after: str | None
    kind: str  # "right -> wrong", "answered -> declined", "declined -> answered", ...

    def describe(self) -> str:
        def name(entry: str | None) -> str:
            return entry or "(declined)"

        return (
            f"{self.question[:80]!r}: {name(self.before)} -> {name(self.after)} "
            f"(expected {name(self.expected)})"
        )


@dataclass
class Comparison:
    live: str
    candidate: str
    live_figures: tuple[float, float] = (0.0, 0.0)  # the live version's recall@1, abstention
    regressions: list[Verdict] = field(default_factory=list)
    improvements: list[Verdict] = field(default_factory=list)
    neutral: list[Verdict] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "live": self.live,
            "candidate": self.candidate,
            "live_recall_at_1": self.live_figures[0],
            "live_abstention_accuracy": self.live_figures[1],
            "regressions": [asdict(v) for v in self.regressions],
            "improvements": [asdict(v) for v in self.improvements],
            "neutral": [asdict(v) for v in self.neutral],
        }

    def lines(self, examples: int = 20) -> list[str]:
        """Regressions first: they are what an editor must look at before publishing."""
        out = [
            f"against the live version {self.live}: {len(self.regressions)} regression(s), "
            f"{len(self.improvements)} improvement(s), {len(self.neutral)} other change(s)"
        ]
        for title, verdicts in (
            ("regression", self.regressions),
            ("improvement", self.improvements),
            ("changed", self.neutral),
        ):
            out += [f"  {title}: {v.describe()}" for v in verdicts[:examples]]
        return out


def _answer(outcome: Outcome, threshold: float) -> str | None:
    if not outcome.answered(threshold) or not outcome.ranked:
        return DECLINED
    return outcome.ranked[0]


def _kind(expected: str | None, before: str | None, after: str | None) -> tuple[str, str]:
    """(list, kind): which list the question goes in, and how it changed."""
    right_before, right_after = before == expected, after == expected
    if right_before and not right_after:
        if expected is None:
            return "regressions", "declined -> answered"
        return "regressions", "answered -> declined" if after is None else "right -> wrong"
    if right_after and not right_before:
        return "improvements", "wrong -> right"
    return "neutral", "wrong -> another wrong"


def compare(
    live: str,
    candidate: str,
    before: Sequence[Outcome],
    after: Sequence[Outcome],
    thresholds: tuple[float, float],
) -> Comparison:
    """before and after: the same labelled questions, in the same order, answered by the
    live version and by the candidate (each with its own threshold)."""
    figures = summarize(list(before), thresholds[0])
    result = Comparison(live, candidate, (figures.recall_at_1 or 0.0, figures.abstention_accuracy))
    for old, new in zip(before, after, strict=True):
        was, now = _answer(old, thresholds[0]), _answer(new, thresholds[1])
        if was == now:
            continue
        where, kind = _kind(new.faq_id, was, now)
        getattr(result, where).append(Verdict(new.query, new.faq_id, was, now, kind))
    return result


def compare_versions(
    live: Retriever,
    candidate: Retriever,
    queries: Sequence[LabelledQuery],
    detector: LanguageDetector | None,
    candidate_outcomes: Sequence[Outcome] | None = None,
) -> Comparison:
    """The labelled questions answered by both versions, routed as the service routes
    them (the gate passes the candidate's outcomes it already has)."""
    after = (
        run_queries(candidate, queries, detector)
        if candidate_outcomes is None
        else candidate_outcomes
    )
    before = run_queries(live, queries, detector)
    thresholds = (live.abstain_threshold, candidate.abstain_threshold)
    return compare(live.version, candidate.version, before, after, thresholds)
