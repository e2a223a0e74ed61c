"""Attempts per client address in a sliding window (per process)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class AddressLimiter:
    def __init__(self, attempts: int, window_s: float) -> None:
        self._attempts = attempts
        self._window = window_s
        self._seen: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, address: str) -> bool:
        """Count one attempt; False once the address has used up its window."""
        now = time.monotonic()
        with self._lock:
            q = self._seen[address]
            while q and now - q[0] > self._window:
                q.popleft()
            if len(q) >= self._attempts:
                return False
            q.append(now)
            if len(self._seen) > 100_000:  # bound memory under an address-spraying attack
                self._seen = defaultdict(deque, {address: q})
            return True
