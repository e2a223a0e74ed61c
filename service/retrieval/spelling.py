"""Customers' typos, read as the FAQ's own words before retrieval: "forgot my pasword"
is searched as "forgot my password", "how lnog do i hvae to retrun an itme" as "how long
do i have to return an item". The embedding model splits an unknown word into pieces
that mean little, and the lexical index does not match it at all.

A word is corrected only when all of these hold: it has at least four letters; it is
neither one of the FAQ's words nor an English word (so a real word the FAQ does not
use, "gears", "motorbikes", "soaks", stays as written); and one of the
FAQ's words lies one edit away (a letter added, dropped, changed, or two neighbours
swapped). Several such words: the one the FAQ uses most; a tie is left alone. Only what
is searched changes: the customer's text is stored and shown as written."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable

# A word with an apostrophe ("doesn't") is one word, and never taken for a typo.
_WORD = re.compile(r"[a-z]+(?:['\u2019][a-z]+)*")
MIN_LENGTH = 4
# Endings of words the dictionary may lack, with what the stem may have lost
_ENDINGS = (
    ("s", ""),
    ("es", ""),
    ("ed", ""),
    ("ed", "e"),
    ("er", ""),
    ("er", "e"),
    ("en", ""),
    ("ing", ""),
    ("ing", "e"),
    ("ly", ""),
    ("nt", ""),
    ("t", ""),
)


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def one_edit(a: str, b: str) -> bool:
    """Whether a and b are one insertion, deletion, substitution or adjacent swap apart.
    Four-letter words: a swap only; one letter more, less or other is as often another
    word or an abbreviation ("auth", "doin") as a typo."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if min(len(a), len(b)) < MIN_LENGTH + 1 and not _swapped(a, b):
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1 or _swapped(a, b)
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _swapped(a: str, b: str) -> bool:
    if len(a) != len(b):
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and a[diff[0]] == b[diff[1]]
        and a[diff[1]] == b[diff[0]]
    )


class Speller:
    def __init__(self, faq_words: Counter[str], lexicon: frozenset[str]) -> None:
        self._counts = faq_words
        self._lexicon = lexicon
        self._by_delete: dict[str, set[str]] = {}
        for word in faq_words:
            if len(word) >= MIN_LENGTH - 1:
                for key in {word, *_deletes(word)}:
                    self._by_delete.setdefault(key, set()).add(word)

    @classmethod
    def build(cls, faq_texts: Iterable[str], lexicon: frozenset[str]) -> Speller:
        counts: Counter[str] = Counter()
        for text in faq_texts:
            counts.update(_WORD.findall(text.lower()))
        return cls(counts, lexicon)

    def correct(self, text: str) -> str:
        """The text with its mistyped words replaced (in lower case, as the uncased model
        and the lexical index read it); the text itself when nothing was mistyped."""
        lowered = text.lower()
        fixed = _WORD.sub(lambda m: self._fix(m.group(0)), lowered)
        return text if fixed == lowered else fixed

    def _known(self, word: str) -> bool:
        """A word of the FAQ or of English, or one with an ending written without its
        apostrophe or not in the dictionary ("doesnt", "rebooked")."""
        if word in self._counts or word in self._lexicon:
            return True
        return any(
            word.endswith(ending) and (word[: -len(ending)] + extra) in self._lexicon
            for ending, extra in _ENDINGS
        )

    def _fix(self, word: str) -> str:
        if len(word) < MIN_LENGTH or not word.isalpha() or self._known(word):
            return word
        found = {c for key in {word, *_deletes(word)} for c in self._by_delete.get(key, ())}
        # a letter before a known word is a prefix more often than a typo ("ebike")
        found.discard(word[1:])
        candidates = sorted((c for c in found if one_edit(word, c)), key=lambda c: -self._counts[c])
        if not candidates:
            return word
        if len(candidates) > 1 and self._counts[candidates[0]] == self._counts[candidates[1]]:
            return word  # no way to tell which was meant
        return candidates[0]


@functools.lru_cache(maxsize=1)
def english_lexicon() -> frozenset[str]:
    """English words (pyspellchecker's dictionary, 160,000 words, shipped inside the
    package): a word in it is not a typo even where the FAQ does not use it. Empty when
    the package is missing, and spelling then stays off."""
    try:
        from spellchecker import SpellChecker
    except ImportError:
        return frozenset()
    return frozenset(SpellChecker(language="en").word_frequency.dictionary)
