"""Follows the publish pointer: a long-running service picks up a new index version
(or a rollback) without a restart."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from service.retrieval.retriever import Retriever
from service.retrieval.schema import POINTER_FILE, THRESHOLDS_FILE
from service.retrieval.store import IndexStore


class LiveRetriever:
    def __init__(
        self, store: IndexStore, open_version: Callable[[], Retriever], check_every_s: float = 1.0
    ) -> None:
        self._store = store
        self._open = open_version
        self._check_every = check_every_s
        self._lock = threading.Lock()
        self._retriever: Retriever | None = None
        self._seen: tuple[int | None, int | None] | None = None
        self._checked = 0.0

    def current(self) -> Retriever:
        """The retriever for the live version; reopened when the pointer or the saved
        thresholds change. Looked at most once a second (two stat calls)."""
        now = time.monotonic()
        if self._retriever is not None and now - self._checked < self._check_every:
            return self._retriever
        with self._lock:
            self._checked = now
            mtime = (self._mtime(POINTER_FILE), self._mtime(THRESHOLDS_FILE))
            if self._retriever is None or mtime != self._seen:
                opened = self._open()
                self._retriever, self._seen = opened, mtime
            return self._retriever

    def _mtime(self, name: str) -> int | None:
        try:
            return (self._store.root / name).stat().st_mtime_ns
        except FileNotFoundError:
            return None
