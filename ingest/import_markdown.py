"""Imported entries, written as markdown for review: the FAQ files stay the source of
truth, and a re-import is a merge, never a replacement.

One file per import (data/faq/imported-<format>.md by default). Each entry keeps its
source id, so a re-import updates the same sections; phrasings an editor added under
"Also asked:" stay (the MaxKB #191 trap: a sync that re-creates documents loses them);
entries the source no longer has are kept and listed, for an editor to delete. A
re-import with nothing changed leaves the file as it was, byte for byte."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ingest.help_center import ImportedEntry
from service.retrieval.schema import FaqEntry
from service.sources.parse import parse_markdown_text
from service.sources.write import answer_block, heading, markdown_bullet, yaml_item


@dataclass
class ImportPlan:
    path: Path
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)  # kept in the file, not in the source
    text: str = ""
    before: str = ""

    @property
    def writes(self) -> bool:
        return self.text != self.before

    def lines(self) -> list[str]:
        out = [
            f"{self.path}: {len(self.added)} added, {len(self.changed)} changed, "
            f"{len(self.unchanged)} unchanged, {len(self.gone)} no longer in the source (kept)"
        ]
        for label, ids in (("added", self.added), ("changed", self.changed), ("gone", self.gone)):
            out += [f"  {label}: {i}" for i in ids]
        return out


def plan_import(path: Path, imported: list[ImportedEntry], category: str) -> ImportPlan:
    before = path.read_text(encoding="utf-8") if path.is_file() else ""
    existing: dict[str, FaqEntry] = {}
    if before:
        entries, errors = parse_markdown_text(str(path), before)
        if errors:
            raise ValueError(f"{errors[0]}: mend the file before importing into it again")
        existing = {e.id: e for e in entries}
    plan = ImportPlan(path, before=before)
    sections = []
    for item in imported:
        old = existing.get(item.id)
        # the editor's phrasings first, then the source's new ones
        phrasings = list(old.questions) if old else []
        phrasings += [a for a in item.alternates if a not in phrasings and a != item.question]
        entry = (item.question, item.answer.strip(), tuple(phrasings))
        if old is None:
            plan.added.append(item.id)
        elif (old.question, old.answer, old.questions) == entry:
            plan.unchanged.append(item.id)
        else:
            plan.changed.append(item.id)
        sections.append(_section(item.id, *entry))
    for entry_id, old in existing.items():
        if entry_id not in {i.id for i in imported}:
            plan.gone.append(entry_id)
            sections.append(_section(entry_id, old.question, old.answer, old.questions))
    # quoted where YAML would read it as something else ("Returns: all", "#1 topics")
    plan.text = f"---\ncategory: {yaml_item(category)}\n---\n\n" + "\n\n".join(sections) + "\n"
    if not plan.added and not plan.changed and not plan.gone and before:
        plan.text = before  # nothing changed: not even the layout is rewritten
    return plan


def _section(entry_id: str, question: str, answer: str, phrasings: tuple[str, ...]) -> str:
    lines = [heading(question, entry_id), answer_block(answer)]
    if phrasings:
        lines += ["", "Also asked:", *(markdown_bullet(p) for p in phrasings)]
    return "\n".join(lines)
