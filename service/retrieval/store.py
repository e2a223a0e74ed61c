"""Index versions on disk: manifests, the publish pointer, rollback and the ingest lock.

Layout under ``index.path``::

    CURRENT.json            {"current": "v000007", "history": ["v000007", "v000006"]}
    ISSUED                  the last version number handed out (never reused)
    ingest.lock             flock held by the running ingest (released by the kernel on kill)
    versions/v000007/       manifest.json (written last: no manifest = unfinished),
                            lexical/, classifier.npz, chroma/ (embedded mode)

A version is immutable once its manifest exists. Publication is one ``os.replace`` of
CURRENT.json, so a reader sees either the old version or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from service.retrieval.schema import (
    CANDIDATE_FILE,
    LOCK_FILE,
    MANIFEST_FILE,
    POINTER_FILE,
    THRESHOLDS_FILE,
    VERSIONS_DIR,
)

ISSUED_FILE = "ISSUED"  # the last version number handed out


class IndexStoreError(RuntimeError):
    """An index problem a user can act on; the message says how."""


class IngestLocked(IndexStoreError):
    pass


class NoIndex(IndexStoreError):
    pass


@dataclass(frozen=True)
class EntryInfo:
    hash: str
    question: str
    title: str
    url: str
    category: str
    answer: str
    updated: str = ""  # the editor's "updated:" date, shown with the entry


@dataclass
class Manifest:
    """A version's entries, model and the policy numbers read from the FAQ at ingest."""

    version: str
    created: str
    model_id: str
    dimension: int
    schema_version: int
    records: int
    entries: dict[str, EntryInfo] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    policy: dict[str, int] = field(default_factory=dict)
    calibration: dict[str, Any] = field(default_factory=dict)
    declines_hash: str = ""  # of the decline examples the classifier learnt from
    # language -> entry id -> the translated entry (data/faq/de/...), and a hash of all
    # that the cross-lingual index was built from
    translations: dict[str, dict[str, EntryInfo]] = field(default_factory=dict)
    languages_hash: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data: dict[str, Any] = json.loads(text)
        data["entries"] = {k: EntryInfo(**v) for k, v in data.get("entries", {}).items()}
        data["translations"] = {
            lang: {k: EntryInfo(**v) for k, v in entries.items()}
            for lang, entries in data.get("translations", {}).items()
        }
        return cls(**data)


@dataclass(frozen=True)
class Pointer:
    current: str | None
    history: tuple[str, ...]  # newest first; history[0] == current


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    # fsync the folder so the rename itself survives a power cut.
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


RUN_LOG_FILE = "ingest_runs.jsonl"
RUN_LOG_KEEP = 1000


class IndexStore:
    def __init__(self, root: Path, keep_versions: int = 2) -> None:
        self.root = root
        self.versions_dir = root / VERSIONS_DIR
        self.keep_versions = keep_versions

    # -- reading -----------------------------------------------------------------------
    def pointer(self) -> Pointer:
        path = self.root / POINTER_FILE
        if not path.is_file():
            return Pointer(None, ())
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return Pointer(data.get("current"), tuple(data.get("history", [])))
        except (OSError, json.JSONDecodeError, AttributeError) as exc:
            raise IndexStoreError(f"{path}: unreadable publish pointer ({exc})") from exc

    def version_dir(self, version: str) -> Path:
        return self.versions_dir / version

    def manifest(self, version: str) -> Manifest:
        path = self.version_dir(version) / MANIFEST_FILE
        try:
            return Manifest.from_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise NoIndex(f"index version {version} is missing its manifest ({path})") from exc

    def saved_thresholds(self) -> dict[str, Any]:
        """Thresholds saved from the console ({} when none, or unreadable)."""
        try:
            data = json.loads((self.root / THRESHOLDS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def save_thresholds(self, values: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.root / THRESHOLDS_FILE, json.dumps(values, indent=1))

    def live_manifest(self) -> Manifest | None:
        current = self.pointer().current
        return self.manifest(current) if current else None

    def require_live(self) -> Manifest:
        manifest = self.live_manifest()
        if manifest is None:
            raise NoIndex(
                f"no index has been published under {self.root}: run `faqbot ingest data/faq`"
            )
        return manifest

    def new_version_id(self) -> str:
        """One above every version ever issued here: on disk, in the history, or issued
        and removed since (a refused or failed run). A number is never used twice, so an
        in-process Chroma client cached for a removed version's folder is never found
        again under a new version."""
        numbers = [0]
        if self.versions_dir.is_dir():
            for p in self.versions_dir.iterdir():
                if p.name.startswith("v") and p.name[1:].isdigit():
                    numbers.append(int(p.name[1:]))
        for v in self.pointer().history:
            if v[1:].isdigit():
                numbers.append(int(v[1:]))
        issued = self.root / ISSUED_FILE
        with contextlib.suppress(OSError, ValueError):
            numbers.append(int(issued.read_text(encoding="utf-8").strip()))
        number = max(numbers) + 1
        self.root.mkdir(parents=True, exist_ok=True)
        _atomic_write(issued, str(number))
        return f"v{number:06d}"

    def write_manifest(self, manifest: Manifest) -> None:
        folder = self.version_dir(manifest.version)
        folder.mkdir(parents=True, exist_ok=True)
        _atomic_write(folder / MANIFEST_FILE, manifest.to_json())

    def publish(self, version: str) -> Pointer:
        if not (self.version_dir(version) / MANIFEST_FILE).is_file():
            raise IndexStoreError(f"refusing to publish unfinished version {version}")
        old = self.pointer()
        history = (version, *[v for v in old.history if v != version])[: self.keep_versions]
        self._write_pointer(Pointer(version, history))
        self.clear_candidate()  # built on the old live version: its base has moved on
        return self.pointer()

    def write_candidate(self, version: str, fingerprint: str, base: str | None) -> None:
        """Records a version built without publishing (a preview), what it was built
        from, and on which live version."""
        record = {"version": version, "fingerprint": fingerprint, "base": base}
        _atomic_write(self.root / CANDIDATE_FILE, json.dumps(record))

    def candidate(self) -> dict[str, Any] | None:
        """The recorded candidate, if its files are complete."""
        try:
            record = json.loads((self.root / CANDIDATE_FILE).read_text(encoding="utf-8"))
            version = str(record["version"])
        except (OSError, json.JSONDecodeError, KeyError, TypeError):
            return None
        if not (self.version_dir(version) / MANIFEST_FILE).is_file():
            return None
        return dict(record)

    def clear_candidate(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.root / CANDIDATE_FILE).unlink()

    def rollback(self) -> tuple[str, str]:
        """Make the previous version live again; the rolled-back one becomes 'previous'
        so a second rollback undoes the first."""
        old = self.pointer()
        if old.current is None or len(old.history) < 2:
            raise IndexStoreError("nothing to roll back to: there is no previous index version")
        previous = old.history[1]
        if not (self.version_dir(previous) / MANIFEST_FILE).is_file():
            raise IndexStoreError(f"previous version {previous} is no longer on disk")
        history = (previous, old.current, *old.history[2:])
        self._write_pointer(Pointer(previous, history), rolled_back_from=old.current)
        return old.current, previous

    def rolled_back_from(self) -> str | None:
        """The version the live one replaced by a rollback; None after a publish. The FAQ
        files may still say what that version said (ingest warns before re-publishing)."""
        path = self.root / POINTER_FILE
        try:
            value = json.loads(path.read_text(encoding="utf-8")).get("rolled_back_from")
        except (OSError, json.JSONDecodeError, AttributeError):
            return None
        return str(value) if value else None

    def _write_pointer(self, pointer: Pointer, rolled_back_from: str | None = None) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        payload = {
            "current": pointer.current,
            "history": list(pointer.history),
            "published_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        if rolled_back_from is not None:
            payload["rolled_back_from"] = rolled_back_from
        _atomic_write(self.root / POINTER_FILE, json.dumps(payload, indent=1))

    def garbage_versions(self, also_known: set[str] | None = None) -> list[str]:
        """Versions that are neither live nor kept for rollback: unfinished ones left by a
        killed ingest, rejected ones, and those pruned from the history."""
        keep = set(self.pointer().history)
        candidate = self.candidate()
        if candidate is not None:  # kept for the publish that follows its preview
            keep.add(candidate["version"])
        on_disk = set()
        if self.versions_dir.is_dir():
            on_disk = {p.name for p in self.versions_dir.iterdir() if p.is_dir()}
        return sorted((on_disk | (also_known or set())) - keep)

    def record_run(self, outcome: str, version: str | None, seconds: float) -> None:
        """Append one ingest run to the run log (what /metrics reports). Only the last
        RUN_LOG_KEEP runs are kept; a failure to write it never fails the ingest."""
        line = json.dumps(
            {"time": time.time(), "outcome": outcome, "version": version, "seconds": seconds}
        )
        path = self.root / RUN_LOG_FILE
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
            kept = [*lines[-(RUN_LOG_KEEP - 1) :], line]
            _atomic_write(path, "\n".join(kept) + "\n")
        except OSError:
            return

    def ingest_runs(self) -> list[dict[str, Any]]:
        path = self.root / RUN_LOG_FILE
        if not path.is_file():
            return []
        runs = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                runs.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a torn line: skip it
        return runs

    def remove_version_files(self, version: str) -> None:
        shutil.rmtree(self.version_dir(version), ignore_errors=True)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive ingest lock. flock is dropped by the kernel when the holder dies,
        so a killed ingest never leaves a stale lock behind."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
                raise IngestLocked(
                    f"another ingest is running on {self.root} ({holder or 'holder unknown'}); "
                    "wait for it to finish and run again"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()}, started {time.strftime('%H:%M:%S')}".encode(), 0)
            try:
                yield
            finally:
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
