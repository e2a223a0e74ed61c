"""Which language a customer writes in: English or one of the languages the FAQ may be
translated into.

lingua-language-detector ships its models in the wheel (nothing is downloaded) and is
the most accurate detector on short texts we could find; restricted to our six languages
it loads in about 0.6 s and answers in well under a millisecond. Short messages ("PayPal?")
are often ambiguous: below ``min_confidence`` the detector says nothing and the caller
falls back to the session's language, then to the page's.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

ENGLISH = "en"
LANGUAGES = ("en", "de", "fr", "es", "it", "nl")
TRANSLATION_LANGUAGES = LANGUAGES[1:]  # folders of translated entries (data/faq/de/...)
_LINGUA_NAMES = {
    "en": "ENGLISH",
    "de": "GERMAN",
    "fr": "FRENCH",
    "es": "SPANISH",
    "it": "ITALIAN",
    "nl": "DUTCH",
}


# Email addresses, links, order numbers and other numbers are in no language: a message
# of only those ("alice@example.com") takes the conversation's language.
_NOT_WORDS = re.compile(r"\S+@\S+|https?://\S+|www\.\S+|\b[A-Za-z]{1,4}-?\d[\d-]*\b|\d+")

# Fewer words than this say too little about a language (the conversation's or the
# page's is used instead).
MIN_WORDS = 3
_WORDS = re.compile(r"[^\W\d_]{2,}")

# Below this probability of English, an unsure message is still not English: the
# cross-lingual path serves any of the languages, so the top guess is good enough there
# ("Come faccio un reso?": Italian 0.45, Spanish 0.44, English 0.05).
NOT_ENGLISH_BELOW = 0.2


@dataclass(frozen=True)
class Detected:
    lang: str | None  # None: not sure enough
    confidence: float
    guess: str | None = None  # the most likely language, sure or not
    english: float = 0.0  # the probability of English


class LanguageDetector:
    """Thread-safe, loaded on first use (the service starts without waiting for it)."""

    def __init__(self, languages: tuple[str, ...] = LANGUAGES, min_confidence: float = 0.5):
        unknown = set(languages) - set(_LINGUA_NAMES)
        if unknown:
            raise ValueError(f"unsupported languages: {sorted(unknown)}")
        self.languages = languages
        self.min_confidence = min_confidence
        self._detector: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._detector is None:
                from lingua import Language, LanguageDetectorBuilder

                chosen = [getattr(Language, _LINGUA_NAMES[c]) for c in self.languages]
                self._detector = (
                    LanguageDetectorBuilder.from_languages(*chosen)
                    .with_preloaded_language_models()
                    .build()
                )
        return self._detector

    def warm_up(self) -> None:
        """Load every language's models now (a short text, which decides nothing, would
        not), so the first customer neither waits for them nor grows the process."""
        self._load()

    def detect(self, text: str) -> Detected:
        text = _NOT_WORDS.sub(" ", text)
        if len(_WORDS.findall(text)) < MIN_WORDS:
            # "order 100234 postcode 10115" is two words, and both are Dutch too
            return Detected(None, 0.0)
        values = self._load().compute_language_confidence_values(text)
        if not values:
            return Detected(None, 0.0)
        codes = {name: c for c, name in _LINGUA_NAMES.items()}
        best = values[0]
        code = codes[best.language.name]
        english = next((float(v.value) for v in values if codes[v.language.name] == "en"), 0.0)
        sure = code if best.value >= self.min_confidence else None
        return Detected(sure, float(best.value), code, english)


def choose_language(
    detected: Detected, earlier: str | None, hint: str | None, supported: tuple[str, ...]
) -> str:
    """The message's own language when the detector is sure; else the conversation's
    (earlier messages), else the page's (Accept-Language or the widget's setting); else
    the detector's guess when English is unlikely; else English."""
    unlikely_english = detected.english < NOT_ENGLISH_BELOW
    guess = detected.guess if unlikely_english and detected.guess != ENGLISH else None
    for lang in (detected.lang, earlier, hint, guess):
        if lang in supported:
            return lang
    return ENGLISH


def parse_accept_language(header: str | None, supported: tuple[str, ...]) -> str | None:
    """The first supported language of an Accept-Language header, by its q-values."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in supported and q > 0:
            ranked.append((-q, i, primary))
    return min(ranked)[2] if ranked else None
