"""The index schema, owned in one place so ingest and the service cannot drift apart.

An FAQ entry becomes several vectors in one Chroma collection, all pointing at the entry:
- ``question``: the entry's question alone,
- ``phrasing``: one per alternate phrasing,
- ``chunk``: question + answer, one per piece when a long answer is split.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Literal

RecordKind = Literal["question", "phrasing", "chunk"]

# The on-disk layout under FAQBOT_INDEX__PATH, named once for ingest and the service:
#   CURRENT.json                   the publish pointer (live and previous version)
#   ingest.lock                    held by the one ingest that may run
#   versions/vNNNNNN/manifest.json entries, their text and hashes, the model identity
#   versions/vNNNNNN/chroma/       embedded Chroma (absent with a Chroma server)
#   versions/vNNNNNN/lexical/      BM25 over the entries
#   versions/vNNNNNN/classifier.npz  the phrasing classifier
POINTER_FILE = "CURRENT.json"
LOCK_FILE = "ingest.lock"
# Thresholds saved from the console: they apply to every version until changed, and a
# running service picks them up like a new version (service/retrieval/live.py).
THRESHOLDS_FILE = "THRESHOLDS.json"
VERSIONS_DIR = "versions"
# The version a preview built and did not publish, with what it was built from: the next
# publish of the same sources publishes it instead of building it again.
CANDIDATE_FILE = "CANDIDATE.json"
MANIFEST_FILE = "manifest.json"
CHROMA_DIR = "chroma"
LEXICAL_DIR = "lexical"
CLASSIFIER_FILE = "classifier.npz"
DECLINES_FILE = "declines.npz"  # the decline examples and their vectors

# Bump when the way entries become records changes: old indexes then need --rebuild.
SCHEMA_VERSION = 1
COLLECTION_PREFIX = "faq_"
RECORD_SEPARATOR = "::"
# Chroma stores ids and vectors only: the record id names the entry and the kind, and
# the version's manifest holds the entries' text. Metadata and documents would cost more
# than the vectors themselves (adding 5,000 records: 4.7 s with them, 1.6 s without).


@dataclass(frozen=True)
class FaqEntry:
    """One question and its answer, as an editor wrote it."""

    id: str
    question: str
    answer: str
    questions: tuple[str, ...] = ()
    title: str = ""
    category: str = ""
    url: str = ""
    updated: str = ""
    source: str = ""  # "file:line", for error messages only; not part of the content hash

    def content_hash(self) -> str:
        payload = json.dumps(
            [
                SCHEMA_VERSION,
                self.question,
                self.answer,
                list(self.questions),
                self.title,
                self.category,
                self.url,
                self.updated,
            ],
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]

    @property
    def display_title(self) -> str:
        return self.title or self.question


@dataclass(frozen=True)
class IndexRecord:
    """One vector's worth of text; ``id`` encodes entry and kind (see record_id)."""

    id: str
    entry_id: str
    kind: RecordKind
    text: str


def collection_name(version: str) -> str:
    return f"{COLLECTION_PREFIX}{version}"


def record_id(entry_id: str, kind: RecordKind, n: int) -> str:
    return f"{entry_id}{RECORD_SEPARATOR}{kind}:{n}"


def parse_record_id(rid: str) -> tuple[str, str]:
    """(entry id, kind) from a record id; entry ids cannot contain the separator."""
    entry_id, _, rest = rid.rpartition(RECORD_SEPARATOR)
    return entry_id, rest.partition(":")[0]
