"""Follows the publish pointer: a long-running service picks up a new index version
(or a rollback) without a restart.

A version that fails to load (a truncated manifest, damaged vector or classifier files,
a Chroma file that will not open) is reported by name and never served: the service
keeps the version it has, or at start the newest earlier version that loads, and says
so in /readyz and /metrics until the pointer moves to one that loads. Opening includes
one search, so files that open but cannot answer count as failing too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from service.retrieval.retriever import Retriever
from service.retrieval.schema import POINTER_FILE, THRESHOLDS_FILE
from service.retrieval.store import IndexStore, IndexStoreError, NoIndex

log = logging.getLogger("faqbot.index")
RETRY_FAILED_S = 30.0  # a version that failed is tried again (its files may have been mended)


@dataclass(frozen=True)
class IndexHealth:
    """What readiness and metrics say about the index."""

    serving: str | None  # the version answering now
    published: str | None  # the version the pointer names
    problem: str | None = None  # why they differ, or why nothing is served
    failures: int = 0  # failed loads since the start (a failed version is retried)

    @property
    def degraded(self) -> bool:
        return self.problem is not None and self.serving is not None

    def reason(self) -> str | None:
        """For /readyz, which anyone may call: what to do, without paths or details
        (those are in the log)."""
        if self.problem is None:
            return None
        if self.published is None and self.serving is None:
            return "no index yet: run `faqbot ingest`"
        if self.serving is None:
            return (
                f"index version {self.published} did not load and no earlier version loads: "
                "see the log, then run `faqbot ingest --rebuild`"
            )
        return (
            f"index version {self.published} did not load; serving {self.serving}: see the "
            "log, then publish a new version or run `faqbot ingest --rollback`"
        )


def _reason(exc: Exception) -> str:
    if isinstance(exc, IndexStoreError):
        return str(exc)
    # Library errors (JSON, numpy, Chroma's bindings) say little to an operator.
    return f"its files are damaged or incomplete ({type(exc).__name__})"


class LiveRetriever:
    def __init__(
        self,
        store: IndexStore,
        open_version: Callable[[str | None], Retriever],
        check_every_s: float = 1.0,
    ) -> None:
        self._store = store
        self._open = open_version
        self._check_every = check_every_s
        self._lock = threading.Lock()
        self._retriever: Retriever | None = None
        self._seen: tuple[int | None, int | None] | None = None
        self._checked = 0.0
        self._failed_at = 0.0
        self._failures = 0
        self.health = IndexHealth(None, None, None)

    def current(self) -> Retriever:
        """The retriever for the live version; reopened when the pointer or the saved
        thresholds change. Looked at most once a second (two stat calls)."""
        now = time.monotonic()
        if self._retriever is not None and now - self._checked < self._check_every:
            return self._retriever
        with self._lock:
            self._checked = now
            mtime = (self._mtime(POINTER_FILE), self._mtime(THRESHOLDS_FILE))
            changed = mtime != self._seen
            retry = self.health.problem is not None and now - self._failed_at > RETRY_FAILED_S
            if self._retriever is None or changed or retry:
                self._reopen(mtime, now)
            if self._retriever is None:
                raise IndexStoreError(self.health.problem or "no index version loads")
            return self._retriever

    def _reopen(self, mtime: tuple[int | None, int | None], now: float) -> None:
        self._seen = mtime
        published: str | None = None
        try:
            published = self._store.pointer().current
            self._retriever = self._checked_open(None)
            self.health = IndexHealth(self._retriever.version, published, None, self._failures)
            return
        except NoIndex as exc:
            if published is None and self._retriever is None:
                self.health = IndexHealth(None, None, str(exc), self._failures)  # none yet
                return
            problem = f"index version {published or '(none)'} did not load: {exc}"
        except Exception as exc:
            problem = f"index version {published or '(none)'} did not load: {_reason(exc)}"
        self._failed_at = now
        self._failures += 1
        if self._retriever is None:
            self._retriever = self._earlier_version(published)
        if self._retriever is not None:
            problem += f"; serving {self._retriever.version}"
        else:
            problem += "; no earlier version loads: run `faqbot ingest --rebuild`"
        if problem != self.health.problem:
            log.error("%s", problem)
        serving = self._retriever.version if self._retriever else None
        self.health = IndexHealth(serving, published, problem, self._failures)

    def _checked_open(self, version: str | None) -> Retriever:
        retriever = self._open(version)
        retriever.search("warm up")
        return retriever

    def _earlier_version(self, failed: str | None) -> Retriever | None:
        """At start, with the live version broken: the newest earlier one that loads."""
        try:
            history = self._store.pointer().history
        except IndexStoreError:
            return None
        for version in history:  # newest first
            if version == failed or not self._store.version_dir(version).is_dir():
                continue
            try:
                return self._checked_open(version)
            except Exception as exc:
                log.warning("index version %s does not load either: %s", version, _reason(exc))
        return None

    def _mtime(self, name: str) -> int | None:
        try:
            return (self._store.root / name).stat().st_mtime_ns
        except FileNotFoundError:
            return None
