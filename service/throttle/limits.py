"""The per-client limits every entry point checks: chat (page, widget, stream, the
no-JavaScript form, the OpenAI-compatible endpoint), handoff, feedback and console
logins. Each is a token bucket by client address, and chat also one by session.

The buckets live in a shared store (Redis or the database, so every worker and replica
counts together) behind a DatabaseGuard: its own threads, a timeout and a breaker. When
the store is slow or down the process's own buckets decide instead: a limit never
stalls a request or turns into an error.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Literal

from service.config import LimitSettings, RateLimit, Settings
from service.db.guard import DatabaseGuard, DatabaseUnavailable
from service.throttle.buckets import Decision, MemoryBuckets, Rate, RateBuckets

log = logging.getLogger("faqbot.limits")
LimitName = Literal["chat", "handoff", "feedback", "login"]


class RateLimited(Exception):
    """Refused by a per-client limit; the API answers 429 with Retry-After."""

    def __init__(self, limit: str, retry_after_s: float) -> None:
        super().__init__(f"too many {limit} requests")
        self.limit = limit
        self.retry_after_s = max(1, int(retry_after_s + 0.999))

    @property
    def detail(self) -> str:
        """What the client is told, in every response shape."""
        return f"Too many requests; please try again in {self.retry_after_s} s."


def _rate(r: RateLimit) -> Rate:
    return Rate(r.per_minute, r.burst)


def _key(name: str, by: str, value: str) -> str:
    # Addresses and session ids are not kept in the clear; a digest counts as well.
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{name}:{by}:{digest}"


class ClientLimits:
    def __init__(
        self,
        settings: LimitSettings,
        shared: RateBuckets | None = None,
        guard: DatabaseGuard | None = None,
        *,
        on_refused: Callable[[str, str], None] = lambda limit, by: None,
        on_store_error: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._shared = shared
        self._guard = guard
        self._local = MemoryBuckets(settings.max_local_keys)
        self._on_refused = on_refused
        self._on_store_error = on_store_error
        self._clock = clock
        self._exempt = [ipaddress.ip_network(n, strict=False) for n in settings.exempt]
        # Addresses refused lately, and until when: their next requests are refused at the
        # door (api/middleware.py), before the body is read or a store is asked.
        self._refused_until: OrderedDict[str, float] = OrderedDict()
        self._door_lock = threading.Lock()
        s = settings
        self._rules: dict[str, list[tuple[str, Rate]]] = {
            # The session first: a session's refused flood leaves the address's tokens to
            # the other customers behind the same address.
            "chat": [
                ("session", _rate(s.chat_per_session)),
                ("address", _rate(s.chat_per_address)),
            ],
            "handoff": [("address", _rate(s.handoff_per_address))],
            "feedback": [("address", _rate(s.feedback_per_address))],
            "login": [("address", _rate(s.login_per_address))],
        }

    async def check(self, name: LimitName, address: str, session: str | None = None) -> None:
        """Take a token from each of the request's buckets; RateLimited if one is empty."""
        if not self._settings.enabled or self._is_exempt(address):
            return
        for by, rate in self._rules[name]:
            value = address if by == "address" else session
            if not value:
                continue
            key = _key(name, by, value)
            decision = await self._take(key, rate)
            if not decision.allowed:
                self._on_refused(name, by)
                if by == "address":
                    self._remember(key, decision.retry_after_s)
                raise RateLimited(name, decision.retry_after_s)

    def door(self, name: LimitName, address: str) -> RateLimited | None:
        """A refusal without any work, for an address whose bucket was found empty and
        has not refilled since. Only what this process saw: others learn on their own."""
        key = _key(name, "address", address)
        with self._door_lock:
            until = self._refused_until.get(key)
            if until is None:
                return None
            left = until - self._clock()
            if left <= 0:
                del self._refused_until[key]
                return None
        self._on_refused(name, "address")
        return RateLimited(name, left)

    def _remember(self, key: str, retry_after_s: float) -> None:
        with self._door_lock:
            self._refused_until[key] = self._clock() + retry_after_s
            self._refused_until.move_to_end(key)
            while len(self._refused_until) > self._settings.max_local_keys:
                self._refused_until.popitem(last=False)

    def _is_exempt(self, address: str) -> bool:
        if not self._exempt:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self._exempt)

    async def _take(self, key: str, rate: Rate) -> Decision:
        now = self._clock()
        if self._shared is None or self._guard is None:
            return self._local.take(key, rate, now)
        try:
            return await self._guard.run(self._shared.take, key, rate, now)
        except DatabaseUnavailable as exc:
            self._on_store_error()
            log.debug("rate limit store unavailable, this process decides: %s", exc)
            return self._local.take(key, rate, now)


def store_for(settings: Settings) -> Literal["memory", "database", "redis"]:
    """The store `limits.store` names, "auto" resolved (see LimitSettings)."""
    chosen = settings.limits.store
    if chosen == "redis" and settings.redis.url is None:
        raise ValueError("limits.store is redis, but redis.url is not set")
    if chosen != "auto":
        return chosen
    if settings.redis.url is not None:
        return "redis"
    return "memory" if settings.db.url.startswith("sqlite") else "database"
