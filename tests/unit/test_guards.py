"""The small parts that keep one slow or hostile input from hurting the rest."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest

from service.api.middleware import ClientAddress
from service.api.text import one_line, readable
from service.chat.grounding import has_markup, refusal_reason
from service.chat.limits import CannotStartInTime, GenerationLimiter, Overloaded
from service.config import LoggingSettings, Settings
from service.db.guard import CircuitBreaker, DatabaseGuard, DatabaseUnavailable
from service.logging_setup import configure_logging
from service.orders.attempts import MemoryAttemptCounter

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def test_memory_counter_counts_locks_and_starts_a_new_window() -> None:
    counter = MemoryAttemptCounter()
    assert [counter.hit("order", "NW-1", window_s=60, now=NOW).count for _ in range(3)] == [1, 2, 3]
    counter.lock("order", "NW-1", NOW + timedelta(minutes=5))
    locked = counter.hit("order", "NW-1", window_s=60, now=NOW + timedelta(minutes=1))
    assert locked.locked(NOW + timedelta(minutes=1)) and locked.count == 3  # not counted
    after = counter.hit("order", "NW-1", window_s=60, now=NOW + timedelta(minutes=6))
    assert after.count == 1 and not after.locked(NOW + timedelta(minutes=6))
    counter.forgive("order", "NW-1")
    assert counter.peek("order", "NW-1", NOW).count == 0


def test_memory_counter_evicts_the_oldest_key_never_everything() -> None:
    counter = MemoryAttemptCounter(max_entries=3)
    for address in ("a", "b", "c"):
        counter.hit("address", address, window_s=60, now=NOW)
    counter.hit("address", "a", window_s=60, now=NOW)  # a is used again: b is now oldest
    counter.hit("address", "d", window_s=60, now=NOW)
    assert len(counter) == 3
    assert counter.peek("address", "b", NOW).count == 0
    assert counter.peek("address", "a", NOW).count == 2
    assert counter.peek("address", "c", NOW).count == 1


def test_breaker_opens_fails_fast_then_lets_one_trial_through() -> None:
    clock = [0.0]
    breaker = CircuitBreaker(failures=2, open_s=10, clock=lambda: clock[0])
    breaker.failure()
    assert breaker.allow() and breaker.state == "closed"
    breaker.failure()
    assert breaker.state == "open" and not breaker.allow()
    clock[0] = 11
    assert breaker.state == "half_open"
    assert breaker.allow() and not breaker.allow()  # exactly one trial
    breaker.failure()
    assert breaker.state == "open"
    clock[0] = 22
    assert breaker.allow()
    breaker.success()
    assert breaker.state == "closed" and breaker.allow()


def test_guard_times_out_and_then_fails_at_once() -> None:
    guard = DatabaseGuard(
        "test", workers=2, timeout_s=0.2, breaker=CircuitBreaker(failures=1, open_s=60)
    )
    calls = []

    def hang() -> None:
        calls.append(1)
        time.sleep(1)

    async def scenario() -> list[str]:
        outcomes = []
        for _ in range(3):
            try:
                await guard.run(hang)
            except DatabaseUnavailable as exc:
                outcomes.append(str(exc))
        return outcomes

    outcomes = asyncio.run(scenario())
    guard.close()
    assert "timed out" in outcomes[0]
    assert all("breaker open" in o for o in outcomes[1:])
    assert len(calls) == 1  # the open breaker never touched the database again


def test_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    nobody = ClientAddress(None, [])  # type: ignore[arg-type]
    assert nobody.client_of("127.0.0.1", ["203.0.113.9"]) == "127.0.0.1"
    proxy = ClientAddress(None, ["10.0.0.0/8"])  # type: ignore[arg-type]
    assert proxy.client_of("10.0.0.2", ["203.0.113.9"]) == "203.0.113.9"
    # A client writes addresses on the left; the proxy appends the real one on the right.
    assert proxy.client_of("10.0.0.2", ["1.1.1.1, 2.2.2.2, 203.0.113.9"]) == "203.0.113.9"
    assert proxy.client_of("10.0.0.2", ["203.0.113.9, 10.0.0.7"]) == "203.0.113.9"
    assert proxy.client_of("192.0.2.1", ["203.0.113.9"]) == "192.0.2.1"  # peer not a proxy
    assert proxy.client_of("10.0.0.2", ["not-an-ip"]) == "10.0.0.2"
    # the scheme the client used: from a trusted proxy only, its own (last) value
    assert proxy.scheme_of("10.0.0.2", "http", ["https"]) == "https"
    assert proxy.scheme_of("10.0.0.2", "http", ["https, http"]) == "http"
    assert proxy.scheme_of("192.0.2.1", "http", ["https"]) == "http"  # not a proxy
    assert proxy.scheme_of("10.0.0.2", "http", ["gopher"]) == "http"
    assert nobody.scheme_of("127.0.0.1", "http", ["https"]) == "http"


def test_trusted_proxies_setting_accepts_a_comma_list_and_refuses_nonsense(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAQBOT_SERVER__TRUSTED_PROXIES", '["10.0.0.1", "172.16.0.0/12"]')
    assert Settings().server.trusted_proxies == ["10.0.0.1", "172.16.0.0/12"]
    monkeypatch.setenv("FAQBOT_SERVER__TRUSTED_PROXIES", "10.0.0.1,172.16.0.0/12")
    assert Settings().server.trusted_proxies == ["10.0.0.1", "172.16.0.0/12"]
    with pytest.raises(ValueError):
        Settings(server={"trusted_proxies": ["10.0.0.300"]})
    assert Settings(server={"trusted_proxies": "10.0.0.1, ::1"}).server.trusted_proxies == [
        "10.0.0.1",
        "::1",
    ]


def test_limiter_gives_up_on_a_slot_that_would_come_too_late() -> None:
    async def scenario() -> list[str]:
        limiter = GenerationLimiter(max_concurrent=1, max_queue=5)
        release = asyncio.Event()
        outcomes: list[str] = []

        async def user(name: str, budget_s: float) -> None:
            try:
                async with limiter.slot(start_by=time.perf_counter() + budget_s):
                    outcomes.append(f"{name} ran")
                    await release.wait()
            except CannotStartInTime:
                outcomes.append(f"{name} fell back")

        first = asyncio.create_task(user("a", 5))
        await asyncio.sleep(0)
        await user("b", 0.05)  # queued behind a, gives up at its deadline
        release.set()
        await first
        return outcomes

    assert asyncio.run(scenario()) == ["a ran", "b fell back"]


def test_limiter_refuses_at_once_when_the_queue_is_full() -> None:
    async def scenario() -> str:
        limiter = GenerationLimiter(max_concurrent=1, max_queue=0, retry_after_s=3)
        async with limiter.slot(start_by=time.perf_counter() + 5):
            try:
                async with limiter.slot(start_by=time.perf_counter() + 5):
                    return "ran"
            except Overloaded as exc:
                return f"429 after {exc.retry_after_s}"

    assert asyncio.run(scenario()) == "429 after 3"


def test_one_text_rule_refuses_surrogates_and_controls_and_drops_invisible_marks() -> None:
    assert readable("hi \u202ethere\u200b\r\n") == "hi there"
    assert readable("tab\tand\r\nlines") == "tab\tand\nlines"
    assert readable("family \U0001f468\u200d\U0001f469") == "family \U0001f468\u200d\U0001f469"
    for bad in ("hi \ud800there", "bell\u0007", "nul\x00", "esc\x1b[31m", "\u200b", " "):
        with pytest.raises(ValueError):
            readable(bad)
    assert one_line(" Ada Lovelace\r\n") == "Ada Lovelace"
    for bad in ("Ada\nBcc: x@example.com", "Ada\rX", "Ada\u2028X"):
        with pytest.raises(ValueError):
            one_line(bad)


def test_grounding_finds_invented_numbers_and_markup() -> None:
    passage = "Standard shipping is free over 75 euros, otherwise 4.95 euros, within 30 days."
    assert refusal_reason("x", "Free over 75 euros [1], else 4,95.", "Rules:", passage) is None
    assert refusal_reason("x", "You get a 50% discount [2].", "Rules:", passage) == (
        "facts not in the passages: 50"
    )
    assert refusal_reason("x", "Refunds take 1,000 days.", "Rules:", "1000 days") is None
    assert has_markup('<script>alert("x")</script>') and has_markup('cut off <faq n="1')
    assert not has_markup("if a < b and c > d, that is fine")


def test_logging_masks_messages_and_tracebacks_in_json() -> None:
    stream = io.StringIO()
    configure_logging(LoggingSettings(format="json"), stream=stream)
    log = logging.getLogger("faqbot.test")
    try:
        raise RuntimeError("lookup for alice@example.com postcode 10115 failed")
    except RuntimeError:
        log.exception("order for %s", "bob@example.org")
    configure_logging(LoggingSettings())  # back to stderr for the other tests
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    text = json.dumps(line)
    assert "alice@example.com" not in text and "bob@example.org" not in text
    assert "10115" not in text
    assert line["message"] == "order for b***@example.org"
    assert "a***@example.com" in line["exception"] and line["level"] == "ERROR"


def test_the_sentence_guard_checks_each_sentence_and_cites_it() -> None:
    from service.chat.guard import SentenceGuard

    passages = ["Returns are free within 30 days.", "We ship with DHL to Norway."]
    guard = SentenceGuard(passages, "Rules:\nAnswer only from the passages.")
    assert guard.feed('<faq n="1" title="Returns">\nReturns are free within 3').sentences == []
    step = guard.feed("0 days.\n</faq> We ship to Nor")
    assert step.sentences == ["Returns are free within 30 days."] and step.stop is None
    assert guard.feed("way with DHL. ").sentences == ["We ship to Norway with DHL."]
    assert guard.answer() == (
        "Returns are free within 30 days [1]. We ship to Norway with DHL [2]."
    )
    assert guard.feed("Refunds take 14 days. ").stop == "unsupported_fact"


def test_the_sentence_guard_stops_loops_markup_and_cut_offs() -> None:
    from service.chat.guard import SentenceGuard

    loop = SentenceGuard(["Returns are free within 30 days."], "Rules:")
    assert loop.feed("Returns are free. Returns are free. ").stop == "repetition"
    markup = SentenceGuard(["Reset your password."], "Rules:")
    assert markup.feed("Click <script>alert(1)</script> here. ").stop == "markup"
    cut = SentenceGuard(["Returns are free within 30 days."], "Rules:")
    assert cut.feed("Returns are").stop is None and cut.finish().stop == "cut off"
    enough = SentenceGuard(["A b c. D e f. G h i. J k l."], "Rules:", max_sentences=2)
    verdict = enough.feed("A b c. D e f. G h i. ")
    assert verdict.sentences == ["A b c.", "D e f."] and enough.full


def test_answer_scores_find_invented_facts_loops_and_missing_facts() -> None:
    from service.chat.answer_eval import degenerate, score, summarize_scores

    entries = {"returns": "Return within 30 days. Refunds go back via PayPal."}
    record = {
        "answer": "Return within 14 days [1].",
        "mode": "generated",
        "sources": [{"id": "returns"}],
    }
    s = score("how long?", "returns", record, entries, 5.0)
    assert s.unsupported == ["number:14"] and s.cites_gold
    assert (s.key_facts, s.key_found) == (2, 0)  # "30" and "paypal", neither stated
    assert degenerate("Yes. Yes.", "generated") == ["repeated sentence"]
    assert degenerate("We ship to the", "generated") == ["cut off"]
    assert degenerate("a b c d a b c d a b c d", "canonical") == []  # the FAQ's own text
    assert degenerate("<faq n=1>x</faq>", "canonical") == ["markup or scaffolding"]
    summary = summarize_scores([s])
    assert summary.unsupported_answers == 1 and summary.key_fact_recall == 0.0
