"""The language a turn is answered in."""

from __future__ import annotations

from collections.abc import Sequence

from service.chat.dialogue import Reading
from service.chat.prompt import Turn
from service.retrieval.language import LANGUAGES, LanguageDetector, choose_language


class TurnLanguage:
    def __init__(self, detector: LanguageDetector | None) -> None:
        self.detector = detector

    def of(
        self, message: str, turns: Sequence[Turn], hint: str | None, reading: Reading | None = None
    ) -> str:
        """The language small talk and requests were written in (their words tell it),
        else the message's if the detector is sure, else the conversation's (its earlier
        messages together), else the page's hint, else English."""
        if reading is not None and reading.lang in LANGUAGES:
            return reading.lang
        if self.detector is None:
            return "en"
        detected = self.detector.detect(message)
        earlier = None
        if detected.lang is None:
            previous = " ".join(t.content for t in turns if t.role == "user")
            earlier = self.detector.detect(previous).lang if previous else None
        return choose_language(detected, earlier, hint, LANGUAGES)
