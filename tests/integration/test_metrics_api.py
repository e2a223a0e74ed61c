"""GET /metrics, request ids and the per-request log line, through the real app."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from ingest.pipeline import IngestError, IngestPipeline
from service.api.observability import metrics_allowed
from service.metrics import MAX_REASONS, reason_label
from service.retrieval.store import IndexStore
from tests.fakes.instant_model import InstantChatModel

pytestmark = pytest.mark.integration
MakeClient = Callable[..., TestClient]


def value(text: str, sample: str) -> float:
    """The value of one exposition line, e.g. 'faqbot_index_entries'."""
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{sample} not in /metrics")


def test_metrics_are_closed_to_the_public_by_default(make_client: MakeClient) -> None:
    client = make_client(InstantChatModel())
    assert client.get("/metrics").status_code == 404  # "testclient" is not a trusted address
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


def test_metrics_count_requests_answers_stages_and_the_index(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(InstantChatModel(), metrics={"public": True})
    caplog.set_level(logging.INFO, logger="faqbot.access")
    answered = client.post("/v1/chat", json={"message": "How long do I have to return an item?"})
    declined = client.post("/v1/chat", json={"message": "Write me a poem about volcanoes"})
    assert answered.status_code == declined.status_code == 200
    assert client.post("/v1/chat", json={"message": ""}).status_code == 422
    text = client.get("/metrics").text
    chat = 'route="/v1/chat"'
    assert value(text, f'faqbot_http_requests_total{{method="POST",{chat},status="200"}}') == 2
    assert value(text, f'faqbot_http_requests_total{{method="POST",{chat},status="422"}}') == 1
    modes = {answered.json()["mode"], declined.json()["mode"]}
    assert sum(value(text, f'faqbot_answers_total{{mode="{m}"}}') for m in modes) == 2
    assert value(text, 'faqbot_stage_duration_seconds_count{stage="retrieve"}') == 2
    assert value(text, 'faqbot_stage_duration_seconds_count{stage="total"}') == 2
    assert value(text, "faqbot_index_entries") == 5
    assert value(text, 'faqbot_index_info{version="v000001"}') == 1
    assert value(text, 'faqbot_ingest_runs_total{outcome="published"}') == 1
    assert value(text, 'faqbot_db_breaker_open{database="chat"}') == 0
    assert value(text, "faqbot_generation_queue_depth") == 0
    # one log line per request, with its id, the mode and the stage timings
    lines = [r.getMessage() for r in caplog.records if r.name == "faqbot.access"]
    chat_lines = [line for line in lines if "POST /v1/chat status=200" in line]
    assert len(chat_lines) == 2 and all("mode=" in line for line in chat_lines)
    assert all("retrieve_ms=" in line for line in chat_lines)
    ids = {re.search(r"id=(\S+)", line).group(1) for line in chat_lines}  # type: ignore[union-attr]
    assert answered.headers["x-request-id"] in ids


def test_a_request_id_is_returned_and_a_safe_one_is_kept(make_client: MakeClient) -> None:
    client = make_client(InstantChatModel())
    mine = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert mine.headers["x-request-id"] == "abc-123"
    hostile = client.get("/healthz", headers={"X-Request-ID": "a b\r\nSet-Cookie: x=1"})
    assert re.fullmatch(r"[0-9a-f]{32}", hostile.headers["x-request-id"])
    assert client.get("/no-such-page").headers["x-request-id"]


def _request(client: str, headers: dict[str, str] | None = None) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return Request({"type": "http", "headers": raw, "client": (client, 1234)})


def test_only_trusted_direct_clients_read_private_metrics() -> None:
    trusted = ["127.0.0.1/32", "10.0.0.0/8"]
    assert metrics_allowed(_request("127.0.0.1"), False, trusted)
    assert metrics_allowed(_request("10.1.2.3"), False, trusted)
    assert not metrics_allowed(_request("203.0.113.9"), False, trusted)
    # through a proxy on the same host: a customer, whatever the peer address
    assert not metrics_allowed(
        _request("127.0.0.1", {"X-Forwarded-For": "1.2.3.4"}), False, trusted
    )
    assert not metrics_allowed(_request("127.0.0.1", {"Forwarded": "for=1.2.3.4"}), False, trusted)
    assert metrics_allowed(_request("203.0.113.9"), True, [])


def test_ingest_runs_are_logged_with_their_outcome(
    faq_dir: Path, make_pipeline: Callable[..., IngestPipeline], settings: object
) -> None:
    pipeline = make_pipeline()
    pipeline.run([faq_dir])
    pipeline.run([faq_dir])  # nothing changed
    (faq_dir / "broken.md").write_text("no front matter at all\n", encoding="utf-8")
    with pytest.raises(IngestError):
        make_pipeline().run([faq_dir])
    make_pipeline().run([faq_dir], dry_run=True, skip_invalid=True)  # not a run
    runs = IndexStore(pipeline.settings.index.path).ingest_runs()
    assert [r["outcome"] for r in runs] == ["published", "unchanged", "refused"]
    assert runs[0]["version"] == "v000001" and all(r["seconds"] >= 0 for r in runs)


def test_fallback_reasons_are_bounded_labels() -> None:
    seen: set[str] = set()
    assert reason_label("TimeoutError: no first token in 20 s", seen) == "timeouterror"
    assert reason_label(None, seen) == "empty"
    assert reason_label("guard stopped after 42 tokens", seen) == "guard_stopped_after"
    words = [a + b for a in "abcdefghij" for b in "abcdefghij"]  # numbers carry no label
    labels = {reason_label(f"reason {w}", seen) for w in words}
    assert len(seen) == MAX_REASONS and "other" in labels


def test_a_database_without_migrations_names_the_command_not_the_sql(
    make_client: MakeClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    empty = f"sqlite:///{tmp_path / 'never-upgraded.db'}"
    client = make_client(InstantChatModel(), db={"url": empty})
    reply = client.post("/v1/chat", json={"message": "How long do I have to return an item?"})
    assert reply.status_code == 200  # answers go on without history
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["database"] == "down"
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "run `faqbot db upgrade`" in text
    assert "no such table" not in text and "[SQL" not in text and "SELECT" not in text


def _family(name: str) -> str:
    return re.sub(r"_(total|bucket|count|sum)$", "", name)


def test_the_dashboard_and_alert_rules_use_only_metrics_the_service_exports(
    make_client: MakeClient,
) -> None:
    import json

    import yaml

    root = Path(__file__).resolve().parents[2] / "deploy"
    rules = yaml.safe_load((root / "prometheus" / "alerts.yml").read_text(encoding="utf-8"))
    alerts = {r["alert"]: r for g in rules["groups"] for r in g["rules"]}
    for wanted in (
        "AbstainRateJump",
        "FallbackRate",
        "AnswersSlow",
        "DatabaseBreakerOpen",
        "TargetDown",
        "AllTargetsGone",
        "IndexNotReady",
    ):
        assert f"Faqbot{wanted}" in alerts
    dashboard = json.loads((root / "grafana" / "faqbot-dashboard.json").read_text("utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    exprs += [r["expr"] for r in alerts.values()]
    used = {_family(m) for e in exprs for m in re.findall(r"faqbot_[a-z_]+", e)}
    client = make_client(InstantChatModel(), metrics={"public": True})
    client.post("/v1/chat", json={"message": "How long do I have to return an item?"})
    text = client.get("/metrics").text
    assert "faqbot_index_ready 1.0" in text  # FaqbotIndexNotReady stays quiet
    exported = {_family(line.split()[2]) for line in text.splitlines() if line.startswith("# TYPE")}
    assert used and used <= exported, used - exported
