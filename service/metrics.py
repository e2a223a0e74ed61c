"""Prometheus metrics for one service process (GET /metrics, docs/operations.md).

Each app has its own registry, so tests that build several apps do not collide, and
values read at scrape time (queue depth, breaker state, index version, ingest runs) come
from a collector that asks the live parts instead of being copied on every change.

Under `faqbot serve --workers N`, PROMETHEUS_MULTIPROC_DIR is set before the workers
start: counters and histograms then live in files there, and every scrape (of any worker,
or of the metrics port the parent process serves) adds up all workers. The scrape-time
values are the answering process's own view.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from service.chat.turn import Answer, TurnRecord
from service.retrieval.live import IndexHealth

# Seconds: retrieval is milliseconds, a CPU model's answer several seconds.
STAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
STAGES = ("retrieve", "llm_queue", "llm_first_token", "llm_total", "total")
MAX_REASONS = 20  # label values are series: free-text reasons must not grow without bound
_WORD = re.compile(r"[a-z_]+")


def reason_label(reason: str | None, seen: set[str]) -> str:
    """A short, bounded label for a fallback reason ("TimeoutError: ..." -> "timeouterror")."""
    words = _WORD.findall((reason or "empty").lower().split(":")[0])
    label = "_".join(words[:3])[:40] or "other"
    if label in seen or len(seen) < MAX_REASONS:
        seen.add(label)
        return label
    return "other"


@dataclass
class LiveParts:
    """What the scrape-time collector asks; each callable may fail without breaking it."""

    queue_depth: Callable[[], int] | None = None
    breakers: dict[str, Callable[[], str]] = field(default_factory=dict)
    index: Callable[[], tuple[str, int]] | None = None  # (version, entries)
    ingest_runs: Callable[[], Sequence[dict[str, Any]]] | None = None
    index_health: Callable[[], IndexHealth] | None = None
    # today's outcome figures (service/admin/outcomes.py), cached by the caller
    outcomes: Callable[[], dict[str, Any] | None] | None = None
    # the helpdesk outbox's items by state (service/helpdesk/outbox.py), cached by the caller
    helpdesk_outbox: Callable[[], dict[str, int]] | None = None


class _LiveCollector(Collector):
    def __init__(self, parts: LiveParts) -> None:
        self.parts = parts

    def collect(self) -> Iterator[Metric]:
        p = self.parts
        if p.queue_depth is not None:
            depth = GaugeMetricFamily(
                "faqbot_generation_queue_depth", "Requests waiting for a model slot."
            )
            depth.add_metric([], float(_safe(p.queue_depth, 0)))
            yield depth
        breaker = GaugeMetricFamily(
            "faqbot_db_breaker_open",
            "1 while a database's circuit breaker is open or half open (calls fail fast).",
            labels=["database"],
        )
        for name, state in p.breakers.items():
            breaker.add_metric([name], 0.0 if _safe(state, "open") == "closed" else 1.0)
        yield breaker
        if p.index is not None:
            yield from _index_metrics(_safe(p.index, ("none", 0)))
        if p.index_health is not None:
            yield from _health_metrics(_safe(p.index_health, None))
        if p.ingest_runs is not None:
            yield from _ingest_metrics(_safe(p.ingest_runs, []))
        if p.outcomes is not None:
            yield from _outcome_metrics(_safe(p.outcomes, None))
        if p.helpdesk_outbox is not None:
            yield from _outbox_metrics(_safe(p.helpdesk_outbox, None))


def _index_metrics(index: tuple[str, int]) -> Iterator[Metric]:
    version, entries = index
    info = GaugeMetricFamily(
        "faqbot_index_info", "The live index version (value 1).", labels=["version"]
    )
    info.add_metric([version], 1.0)
    yield info
    count = GaugeMetricFamily("faqbot_index_entries", "Entries in the live index.")
    count.add_metric([], float(entries))
    yield count


def _health_metrics(health: IndexHealth | None) -> Iterator[Metric]:
    """The live index's health (service/retrieval/live.py), None when unknown."""
    yield _gauge(
        "faqbot_index_degraded",
        "1 while the published index version does not load and an earlier one (or "
        "none) is served; /readyz says what to do.",
        0.0 if health is None or health.problem is None else 1.0,
    )
    yield _gauge(
        "faqbot_index_ready",
        "1 while an index version answers; 0: none yet (first boot before ingest) "
        "or none loads, and every chat gets 503.",
        0.0 if health is None or health.serving is None else 1.0,
    )
    failures = CounterMetricFamily(
        "faqbot_index_load_failures",
        "Failed loads of the published index version since the start (it is tried "
        "again every 30 s and whenever the pointer moves; none was served).",
    )
    failures.add_metric([], float(health.failures if health is not None else 0))
    yield failures


def _outcome_metrics(today: dict[str, Any] | None) -> Iterator[Metric]:
    """Today's conversations by outcome (UTC day; what each over-counts: outcomes.py)."""
    if not today:
        return
    by = GaugeMetricFamily(
        "faqbot_conversations_today",
        "Conversations started today, by outcome (resolved by the bot confirmed or assumed; "
        "handed off asked, declined or thumbs down; durable).",
        labels=["outcome"],
    )
    for key, value in today.items():  # the outcome counts (outcomes.OUTCOMES)
        if key.startswith(("resolved_", "handed_off_")) or key == "durable":
            by.add_metric([key], float(value or 0))
    yield by
    if today.get("first_human_reply_s") is not None:
        yield _gauge(
            "faqbot_first_human_reply_seconds",
            "Median time from a handoff request to the agent's first reply, today.",
            float(today["first_human_reply_s"]),
        )
    if today.get("csat") is not None:
        yield _gauge(
            "faqbot_csat_today", "Thumbs up among today's rated answers.", float(today["csat"])
        )


def _ingest_metrics(runs: Sequence[dict[str, Any]]) -> Iterator[Metric]:
    total = CounterMetricFamily(
        "faqbot_ingest_runs", "Ingest runs on this index, by outcome.", labels=["outcome"]
    )
    by_outcome: dict[str, int] = {}
    for run in runs:
        outcome = str(run.get("outcome", "unknown"))
        by_outcome[outcome] = by_outcome.get(outcome, 0) + 1
    for outcome, n in sorted(by_outcome.items()):
        total.add_metric([outcome], float(n))
    yield total
    last = GaugeMetricFamily(
        "faqbot_ingest_last_run_timestamp_seconds",
        "When the last ingest run ended, by outcome (Unix time).",
        labels=["outcome"],
    )
    latest: dict[str, float] = {}
    for run in runs:
        outcome = str(run.get("outcome", "unknown"))
        latest[outcome] = max(latest.get(outcome, 0.0), float(run.get("time", 0.0)))
    for outcome, t in sorted(latest.items()):
        last.add_metric([outcome], t)
    yield last


def _outbox_metrics(states: dict[str, int] | None) -> Iterator[Metric]:
    """What waits to go to the helpdesk (pending: Chatwoot down or slow) and what was
    given up on (the handoff went to the console's inbox instead)."""
    if states is None:
        return
    by = GaugeMetricFamily(
        "faqbot_helpdesk_outbox",
        "Handoffs and customers' messages for the helpdesk, by state (pending, failed).",
        labels=["state"],
    )
    for state in ("pending", "failed"):
        by.add_metric([state], float(states.get(state, 0)))
    yield by


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, documentation)
    gauge.add_metric([], value)
    return gauge


def _safe(fn: Callable[[], Any], default: Any) -> Any:
    try:
        return fn()
    except Exception:  # a scrape must not fail because one part is down
        return default


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "faqbot_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "faqbot_http_request_duration_seconds",
            "Whole request, until the last byte of the response (streams included).",
            ["route"],
            buckets=STAGE_BUCKETS,
            registry=r,
        )
        self.stage_seconds = Histogram(
            "faqbot_stage_duration_seconds",
            "Chat turn stages: retrieve, llm_queue, llm_first_token, llm_total, total.",
            ["stage"],
            buckets=STAGE_BUCKETS,
            registry=r,
        )
        self.order_seconds = Histogram(
            "faqbot_order_lookup_duration_seconds",
            "Order lookups (verification and the order's facts).",
            buckets=STAGE_BUCKETS,
            registry=r,
        )
        self._count_outcomes(r)
        self.live = LiveParts()
        r.register(_LiveCollector(self.live))
        self._reasons: set[str] = set()

    def _count_outcomes(self, r: CollectorRegistry) -> None:
        """What became of requests: answers by mode, fallbacks, cache hits, refusals."""
        self.answers = Counter("faqbot_answers", "Answers by mode.", ["mode"], registry=r)
        self.fallbacks = Counter(
            "faqbot_fallbacks", "Model answers not used, by reason.", ["reason"], registry=r
        )
        self.cache_hits = Counter("faqbot_answer_cache_hits", "Answers from the cache.", registry=r)
        self.busy = Counter(
            "faqbot_busy_rejections", "Requests refused with 429 (queue full).", registry=r
        )
        self.rate_limited = Counter(
            "faqbot_rate_limited",
            "Requests refused with 429 by a per-client limit, by limit and key (address, session).",
            ["limit", "by"],
            registry=r,
        )
        self.limit_store_errors = Counter(
            "faqbot_rate_limit_store_errors",
            "Limit checks the shared store (Redis, database) did not answer in time; the "
            "process's own buckets decided.",
            registry=r,
        )

    def observe_turn(self, record: TurnRecord, answer: Answer) -> None:
        self.answers.labels(record.mode).inc()
        if record.cached:
            self.cache_hits.inc()
        if answer.mode == "fallback":
            self.fallbacks.labels(reason_label(answer.fallback_reason, self._reasons)).inc()
        t = record.timings
        values = (t.retrieve_ms, t.llm_queue_ms, t.llm_first_token_ms, t.llm_total_ms, t.total_ms)
        for stage, ms in zip(STAGES, values, strict=True):
            if ms is not None:
                self.stage_seconds.labels(stage).observe(ms / 1000)

    def observe_order_lookup(self, seconds: float) -> None:
        self.order_seconds.observe(seconds)

    def render(self) -> bytes:
        if not multiprocess_dir():
            return generate_latest(self.registry)
        registry = multiprocess_registry()
        registry.register(_LiveCollector(self.live))
        return generate_latest(registry)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def multiprocess_registry() -> CollectorRegistry:
    """Every worker's counters and histograms, added up from their files."""
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry
