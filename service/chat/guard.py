"""The grounding guard: every generated sentence is checked as the model completes it.

A sentence may state only facts its passages contain (not the customer's, who may say
"returns are now 365 days"), may not repeat
an earlier one or loop on a phrase, and may not carry markup or the prompt's own
scaffolding. The first sentence that fails stops the generation; only sentences that
passed are ever shown. Each accepted sentence is attributed to the passage it draws on
and cited by construction ([n]), since a small model does not write citations reliably.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from service.chat.facts import facts
from service.chat.grounding import has_markup
from service.chat.prompt import leaks_prompt

# A sentence ends at . ! or ? followed by white space (so 4.95 and e-mail dots do not),
# or at a line break.
_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n+")
_CITE = re.compile(r"\s*\[\d+\]")
_WORD = re.compile(r"[a-z0-9äöüß]+")
_TAG = re.compile(r"</?\s*(?:faq|history|question)\b[^<>]*>", re.IGNORECASE)
_FENCE = re.compile(r"</?\s*(faq|history|question|system)\b|\bRules:", re.IGNORECASE)
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "with",
        "by",
        "from",
        "is",
        "are",
        "was",
        "be",
        "can",
        "you",
        "your",
        "i",
        "we",
        "our",
        "it",
        "this",
        "that",
        "do",
        "does",
        "not",
        "no",
        "yes",
        "will",
        "have",
        "has",
        "as",
    ]
)


@dataclass(frozen=True)
class Verdict:
    """Sentences accepted by this step, and why generation must stop (None: go on)."""

    sentences: list[str]
    stop: str | None = None


@dataclass
class SentenceGuard:
    passages: Sequence[str]
    system_prefix: str
    max_sentences: int = 3
    trusted: Sequence[str] = ()  # the shop's own texts (its contact), not citable
    accepted: list[str] = field(default_factory=list)
    cited: list[int] = field(default_factory=list)  # passage index per accepted sentence
    _buffer: str = ""

    def __post_init__(self) -> None:
        # Each passage's facts and words once, not per sentence: the guard runs on every
        # sentence of every generated answer.
        self._facts = [facts(p) for p in self.passages]
        self._words = [_content(p) for p in self.passages]
        self._known = set().union(*self._facts, *(facts(t) for t in self.trusted))

    def feed(self, piece: str) -> Verdict:
        # Small models echo the passage with its <faq> fence: the tags go, the text is
        # checked like any other. A "<" not yet closed may be such a tag: wait for it.
        self._buffer = _TAG.sub(" ", self._buffer + piece)
        cut = self._buffer.rfind("<")
        pending = ""
        if cut >= 0 and ">" not in self._buffer[cut:]:
            self._buffer, pending = self._buffer[:cut], self._buffer[cut:]
        parts = _END.split(self._buffer)
        complete, self._buffer = parts[:-1], parts[-1] + pending
        return self._check([p for p in complete if p.strip()])

    def finish(self) -> Verdict:
        """The rest of the text once the model stopped. A last sentence without its
        full stop is kept only if it reads as complete (the token limit cut it off
        otherwise)."""
        rest, self._buffer = _TAG.sub(" ", self._buffer).strip(), ""
        if not rest:
            return Verdict([])
        if not rest.endswith((".", "!", "?")) and len(_WORD.findall(rest)) < 4:
            return Verdict([]) if self.accepted else Verdict([], "cut off")
        return self._check([rest])

    @property
    def full(self) -> bool:
        return len(self.accepted) >= self.max_sentences

    def answer(self) -> str:
        """The accepted sentences, each cited by the passage it came from."""
        return " ".join(self.shown(i) for i in range(len(self.accepted)))

    def shown(self, i: int) -> str:
        """Accepted sentence i as the customer sees it, with its citation."""
        return _cite(self.accepted[i], self.cited[i] + 1)

    def _check(self, sentences: list[str]) -> Verdict:
        taken: list[str] = []
        for raw in sentences:
            sentence = _CITE.sub("", raw).strip()
            reason = self._problem(raw, sentence)
            if reason:
                return Verdict(taken, reason)
            if not _WORD.search(sentence.lower()):
                continue  # stray punctuation
            self.accepted.append(sentence)
            self.cited.append(self._source_of(sentence))
            taken.append(sentence)
            if self.full:
                return Verdict(taken, None)
        return Verdict(taken)

    def _problem(self, raw: str, sentence: str) -> str | None:
        if has_markup(raw) or _FENCE.search(raw):
            return "markup"
        if leaks_prompt(raw, self.system_prefix):
            return "prompt_echo"
        # Only the passages count: a number the customer typed ("returns are now 365
        # days") is not the shop's to repeat.
        if facts(sentence) - self._known:
            return "unsupported_fact"
        if _repeats(sentence, self.accepted):
            return "repetition"
        return None

    def _source_of(self, sentence: str) -> int:
        """The passage sharing most facts (then most content words) with the sentence."""
        mine, words = facts(sentence), _content(sentence)

        def score(i: int) -> tuple[int, int]:
            return len(mine & self._facts[i]), len(words & self._words[i])

        return max(range(len(self.passages)), key=score) if self.passages else 0


def _content(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in STOPWORDS}


def _repeats(sentence: str, earlier: list[str]) -> bool:
    words = _WORD.findall(sentence.lower())
    trigrams = Counter(zip(words, words[1:], words[2:], strict=False))
    if trigrams and max(trigrams.values()) >= 3:
        return True  # looping inside the sentence
    mine = set(words)
    for other in earlier:
        theirs = set(_WORD.findall(other.lower()))
        if mine and len(mine & theirs) / len(mine | theirs) >= 0.8:
            return True
    return False


def _cite(sentence: str, n: int) -> str:
    m = re.search(r"[.!?]*$", sentence)
    end = m.start() if m else len(sentence)
    return f"{sentence[:end]} [{n}]{sentence[end:]}"
