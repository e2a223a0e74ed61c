"""Every setting the documentation tells an operator to set exists: a misspelt or
misplaced variable (FAQBOT_LLM__HOST for the openai provider, which reads __BASE_URL) is
silently ignored by the service, so the docs are checked against the settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from service.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", ROOT / ".env.example", *sorted((ROOT / "docs").glob("*.md"))]


def _named(text: str) -> set[str]:
    return set(re.findall(r"\bFAQBOT_[A-Z]+__[A-Z_]*[A-Z]\b", text))


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_setting_the_docs_name_exists(doc: Path) -> None:
    for name in _named(doc.read_text(encoding="utf-8")):
        model: object = Settings
        for part in name.removeprefix("FAQBOT_").lower().split("__"):
            fields = getattr(model, "model_fields", {})
            assert part in fields, f"{doc.name}: {name}"
            model = fields[part].annotation


def test_openai_compatible_servers_are_configured_by_their_base_url() -> None:
    for doc in DOCS:
        for paragraph in doc.read_text(encoding="utf-8").split("\n\n"):
            # where the docs give the server's address along with the provider
            if "FAQBOT_LLM__PROVIDER=openai" in paragraph and "http" in paragraph:
                assert "FAQBOT_LLM__BASE_URL=" in paragraph, f"{doc.name}: {paragraph[:200]}"
                assert "FAQBOT_LLM__HOST=" not in paragraph, f"{doc.name}: {paragraph[:200]}"
