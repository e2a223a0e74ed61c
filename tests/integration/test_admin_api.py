"""The console's API through the real service and database: access (401/403, CSRF,
cookie flags, lockout, audit) and the gap inbox (clusters from real chat turns, edits to
the markdown sources that the next ingest publishes)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from ingest.pipeline import IngestPipeline
from service.admin.accounts import AdminAccounts
from service.config import RateLimit, Settings
from service.db.engine import make_engine
from service.sources.parse import parse_sources
from tests.fakes.instant_model import InstantChatModel

pytestmark = pytest.mark.integration
PASSWORD = "correct horse battery"
GIFT_WRAP = [
    "do you offer gift wrapping?",
    "can you gift wrap my order please",
    "is gift wrapping available for presents?",
]


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, chat_settings: Settings) -> str:
    """The chat database the console reads and writes: SQLite, and the real PostgreSQL."""
    if request.param == "sqlite":
        return chat_settings.db.url
    from service.db.migrations import upgrade

    url: str = request.getfixturevalue("postgres_url")
    upgrade(url)
    return url


@pytest.fixture
def accounts(chat_settings: Settings, request: pytest.FixtureRequest) -> AdminAccounts:
    url = request.getfixturevalue("db_url") if "db_url" in request.fixturenames else None
    accounts = AdminAccounts(make_engine(url or chat_settings.db.url))
    accounts.create_user("erika", "editor", PASSWORD)
    accounts.create_user("otto", "ops", PASSWORD)
    return accounts


@pytest.fixture
def console(
    make_client: Callable[..., TestClient], faq_dir: Path, db_url: str, accounts: AdminAccounts
) -> TestClient:
    return make_client(
        InstantChatModel(), admin={"enabled": True, "faq_dir": faq_dir}, db={"url": db_url}
    )


def login(client: TestClient, name: str) -> str:
    r = client.post("/admin/api/login", json={"name": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return str(r.json()["csrf"])


THRESHOLDS = {"abstain_threshold": 0.5, "canonical_threshold": 0.7, "canonical_margin": 0.3}
DRAFT = {"entry_id": "gift-wrap", "question": "Do you gift wrap?", "answer": "No."}
ROUTES = [
    ("GET", "/admin/api/me", None),
    ("GET", "/admin/api/inbox", None),
    ("GET", "/admin/api/entries", None),
    ("GET", "/admin/api/conversations", None),
    ("GET", "/admin/api/conversations/abc", None),
    ("GET", "/admin/api/thresholds", None),
    ("GET", "/admin/api/analytics", None),
    ("GET", "/admin/api/charts.png", None),
    ("GET", "/admin/api/export/feedback.csv", None),
    ("GET", "/admin/api/audit", None),
    ("GET", "/admin/api/requests", None),
    ("GET", "/admin/api/outcomes", None),
    ("GET", "/admin/api/handoffs", None),
    ("GET", "/admin/api/handoffs/abc", None),
    ("POST", "/admin/api/handoffs/abc/claim", None),
    ("POST", "/admin/api/handoffs/abc/reply", {"text": "Hello"}),
    ("POST", "/admin/api/handoffs/abc/handback", None),
    ("POST", "/admin/api/handoffs/abc/close", None),
    ("POST", "/admin/api/logout", None),
    ("POST", "/admin/api/inbox/attach", {"entry_id": "returns-window", "questions": ["x y"]}),
    ("POST", "/admin/api/inbox/draft", DRAFT),
    ("POST", "/admin/api/inbox/decline", {"questions": ["x y"]}),
    ("POST", "/admin/api/inbox/dismiss", {"ids": ["abc"]}),
    ("POST", "/admin/api/replay", None),
    ("POST", "/admin/api/publish", None),
    ("POST", "/admin/api/rollback", None),
    ("POST", "/admin/api/ask", {"question": "x y"}),
    ("POST", "/admin/api/thresholds/simulate", THRESHOLDS),
    ("POST", "/admin/api/thresholds", THRESHOLDS),
]
OPS_ONLY = {("GET", "/admin/api/audit"), ("POST", "/admin/api/thresholds")}
# the agents' inbox: agents and ops, not editors
AGENT_ONLY = {(m, p) for m, p, _ in ROUTES if p.startswith("/admin/api/handoffs")}


def call(client: TestClient, method: str, path: str, body: Any, csrf: str | None = None) -> int:
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    return client.request(method, path, json=body, headers=headers).status_code


def test_every_route_refuses_anonymous_wrong_role_and_missing_csrf(console: TestClient) -> None:
    import re

    # every /admin/api route is in ROUTES (a new one must be added here to be checked)
    from service.admin.agent_routes import agents
    from service.admin.routes import router

    served = {
        (method, re.sub(r"\{[^}]+\}", "x", route.path))  # type: ignore[attr-defined]
        for route in [*router.routes, *agents.routes]
        if getattr(route, "path", "").startswith("/admin/api/")
        for method in route.methods  # type: ignore[attr-defined]
    }
    templates = {
        "/admin/api/conversations/abc": "/admin/api/conversations/x",
        "/admin/api/export/feedback.csv": "/admin/api/export/x.csv",
        **{
            p: p.replace("/abc", "/x") for _, p, _ in ROUTES if p.startswith("/admin/api/handoffs/")
        },
    }
    listed = {(m, templates.get(p, p)) for m, p, _ in ROUTES}
    assert served - {("POST", "/admin/api/login")} == listed
    for method, path, body in ROUTES:
        assert call(console, method, path, body) == 401, path
    csrf = login(console, "erika")
    for method, path, body in ROUTES:
        if (method, path) in OPS_ONLY | AGENT_ONLY:
            assert call(console, method, path, body, csrf) == 403, path
    for method, path, body in ROUTES:
        if method == "POST" and path != "/admin/api/logout":
            assert call(console, method, path, body) == 403, path  # no CSRF token
            assert call(console, method, path, body, "forged") == 403, path
    assert call(console, "GET", "/admin/api/inbox", None) == 200  # reads need no token
    console.cookies.clear()
    csrf = login(console, "otto")
    assert call(console, "GET", "/admin/api/audit", None, csrf) == 200  # ops: everything
    assert call(console, "POST", "/admin/api/logout", None) == 403
    assert call(console, "POST", "/admin/api/logout", None, csrf) == 204
    assert call(console, "GET", "/admin/api/me", None) == 401  # the session is gone


def test_the_session_cookie_is_http_only_strict_and_secure_when_asked(
    make_client: Callable[..., TestClient], faq_dir: Path, accounts: AdminAccounts
) -> None:
    plain = make_client(InstantChatModel(), admin={"enabled": True, "faq_dir": faq_dir})
    r = plain.post("/admin/api/login", json={"name": "erika", "password": PASSWORD})
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/admin" in cookie
    assert "secure" not in cookie  # plain http in this test
    strict = make_client(
        InstantChatModel(),
        admin={"enabled": True, "faq_dir": faq_dir, "secure_cookie": "always"},
    )
    r = strict.post("/admin/api/login", json={"name": "erika", "password": PASSWORD})
    assert "secure" in r.headers["set-cookie"].lower()


def test_the_console_is_off_unless_enabled(make_client: Callable[..., TestClient]) -> None:
    client = make_client(InstantChatModel())
    assert client.get("/admin").status_code == 404
    assert client.post("/admin/api/login", json={"name": "a", "password": "b"}).status_code == 404


def test_stopping_the_service_closes_the_consoles_database_connections(
    console: TestClient,
) -> None:
    """The console's own engine is the service's to close, like the chat store's: a
    stopped (or restarted) service leaves no idle connections on the database."""
    login(console, "erika")
    assert console.get("/admin/api/inbox").status_code == 200
    engine = console.app.state.console.engine  # type: ignore[attr-defined]
    assert engine.pool.checkedin() > 0  # a pooled connection, idle between requests
    console.__exit__(None, None, None)
    assert engine.pool.checkedin() == 0


def test_repeated_failed_logins_lock_the_account(chat_settings: Settings) -> None:
    accounts = AdminAccounts(make_engine(chat_settings.db.url), max_failed=3)
    accounts.create_user("erika", "editor", PASSWORD)
    now = datetime.now(UTC)
    for _ in range(3):
        assert accounts.login("erika", "wrong password!!", now) is None
    assert accounts.login("erika", PASSWORD, now) is None  # locked, even with the password
    later = now + timedelta(minutes=16)
    assert accounts.login("erika", PASSWORD, later) is not None
    assert accounts.login("nobody", PASSWORD, later) is None


def test_a_lockout_cannot_be_aimed_at_an_editor_from_another_address(
    accounts: AdminAccounts,
) -> None:
    """Five wrong passwords for erika from the attacker's address lock that address out
    of erika's account only: erika logs in from her own, and every try is audited."""
    now = datetime.now(UTC)
    for _ in range(5):
        assert accounts.login("erika", "wrong password!!", now, "198.51.100.7") is None
    assert accounts.login("erika", PASSWORD, now, "198.51.100.7") is None  # locked there
    assert accounts.login("erika", PASSWORD, now, "203.0.113.20") is not None
    trail = accounts.audit_trail(limit=20)
    actions = [e["action"] for e in trail]
    assert actions.count("login_failed") == 5 and actions.count("login_locked") == 1
    assert "login_refused" in actions
    locked = next(e for e in trail if e["action"] == "login_locked")
    assert locked["detail"]["name"] == "erika" and locked["detail"]["address"] == "198.51.100.7"
    assert accounts.login("erika", PASSWORD, now + timedelta(minutes=16), "198.51.100.7")


def test_concurrent_wrong_passwords_are_each_counted(accounts: AdminAccounts) -> None:
    """The count is an atomic upsert: twenty tries at once cannot all read the same old
    count and leave the pair unlocked (SQLite and PostgreSQL)."""
    from concurrent.futures import ThreadPoolExecutor

    accounts.create_user("bruno", "editor", PASSWORD)
    now = datetime.now(UTC)
    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(
                lambda _: accounts.login("bruno", "wrong password!!", now, "10.1.1.1"), range(20)
            )
        )
    assert results == [None] * 20
    actions = [e["action"] for e in accounts.audit_trail(limit=100)]
    assert accounts.login("bruno", PASSWORD, now, "10.1.1.1") is None  # locked
    # each try is audited: counted as a failure, or refused once the pair was locked
    assert actions.count("login_failed") + actions.count("login_refused") == 20
    assert actions.count("login_failed") >= 5 and actions.count("login_locked") >= 1


def test_expired_sessions_are_deleted(accounts: AdminAccounts, db_url: str) -> None:
    then = datetime.now(UTC) - timedelta(days=2)
    accounts.login("erika", PASSWORD, then, "10.2.2.2")
    accounts.login("otto", PASSWORD, then, "10.2.2.2")
    engine = make_engine(db_url)
    count = "select count(*) from admin_sessions"
    with engine.connect() as conn:
        assert conn.execute(sa.text(count)).scalar_one() == 2
    assert accounts.login("erika", PASSWORD, datetime.now(UTC), "10.2.2.2") is not None
    with engine.connect() as conn:
        assert conn.execute(sa.text(count)).scalar_one() == 1  # only the live one
    accounts.login("otto", PASSWORD, then, "10.2.2.2")
    assert accounts.purge_sessions(datetime.now(UTC)) == 1
    engine.dispose()


def test_a_login_flood_is_limited_per_address(
    make_client: Callable[..., TestClient], faq_dir: Path, accounts: AdminAccounts
) -> None:
    client = make_client(
        InstantChatModel(),
        admin={"enabled": True, "faq_dir": faq_dir},
        limits={"login_per_address": RateLimit(per_minute=6, burst=3)},
    )
    bad = client.post("/admin/api/login", json={"name": "erika\nroot", "password": PASSWORD})
    assert bad.status_code == 422
    codes = [
        client.post("/admin/api/login", json={"name": "erika", "password": "nope"}).status_code
        for _ in range(4)
    ]
    assert codes == [401, 401, 401, 429]  # a 422 is refused before any token is taken
    refused = client.post("/admin/api/login", json={"name": "erika", "password": PASSWORD})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1


@pytest.fixture
def declined(console: TestClient) -> TestClient:
    """The console, after customers asked three gift-wrap questions and one off topic,
    all declined."""
    for question in [*GIFT_WRAP, "who painted the mona lisa?"]:
        reply = console.post("/v1/chat", json={"message": question}).json()
        assert reply["mode"] == "abstained", question
    return console


def test_a_cluster_of_declined_questions_becomes_phrasings_and_is_answered(
    declined: TestClient,
    faq_dir: Path,
    make_pipeline: Callable[..., IngestPipeline],
    accounts: AdminAccounts,
) -> None:
    console = declined
    csrf = login(console, "erika")
    inbox = console.get("/admin/api/inbox").json()
    assert inbox["questions"] == 4
    biggest = inbox["clusters"][0]
    assert biggest["size"] == 3 and set(biggest["questions"]) == set(GIFT_WRAP)
    # the answers kept the questions' vectors: the inbox need not embed them again
    from service.admin.inbox import load_gaps

    since = datetime.now(UTC) - timedelta(days=1)
    model = console.app.state.retriever().manifest.model_id  # type: ignore[attr-defined]
    gaps = load_gaps(make_engine(console.app.state.settings.db.url), since, model)  # type: ignore[attr-defined]
    assert gaps and all(g.vector is not None and g.vector.shape == (384,) for g in gaps)
    assert biggest["kinds"] == {"abstained": 3}

    r = console.post(
        "/admin/api/inbox/attach",
        json={
            "entry_id": "payment-methods",
            "questions": biggest["questions"],
            "ids": biggest["ids"],
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 200, r.text
    parsed = {e.id: e for e in parse_sources([faq_dir]).entries}
    assert set(GIFT_WRAP) <= set(parsed["payment-methods"].questions)
    # the edited file goes through the normal ingest, and the chat answers them now
    assert make_pipeline().run([faq_dir]).published
    again = wait_for_mode(console, "is gift wrapping available?", lambda m: m != "abstained")
    assert again["sources"][0]["id"] == "payment-methods"
    remaining = console.get("/admin/api/inbox").json()["clusters"]
    left = {i for c in remaining for i in c["ids"]}
    assert not left & set(biggest["ids"])  # the attached ones were dismissed
    assert any("who painted the mona lisa?" in c["questions"] for c in remaining)
    events = [e["action"] for e in accounts.audit_trail()]
    assert "attach" in events and "login" in events


def test_declined_questions_the_live_version_now_answers_leave_the_inbox(
    declined: TestClient, faq_dir: Path, make_pipeline: Callable[..., IngestPipeline]
) -> None:
    console = declined
    login(console, "erika")
    before = console.get("/admin/api/inbox").json()
    assert any(set(GIFT_WRAP) <= set(c["questions"]) for c in before["clusters"])
    # answered in the markdown by hand, not through the inbox: nothing was dismissed
    (faq_dir / "wrapping.md").write_text(
        "## Do you gift wrap orders? {#gift-wrap}\nYes: choose gift wrapping at checkout.\n\n"
        "Also asked:\n- can you wrap my order as a gift\n- is gift wrapping available\n",
        encoding="utf-8",
    )
    assert make_pipeline().run([faq_dir]).published
    wait_for_mode(console, GIFT_WRAP[0], lambda m: m != "abstained")
    after = console.get("/admin/api/inbox").json()["clusters"]
    asked = {q for c in after for q in c["questions"]}
    assert not asked & set(GIFT_WRAP)
    assert "who painted the mona lisa?" in asked  # still declined: still open
    # the conversations keep them (the history is not the inbox)
    found = console.get("/admin/api/conversations", params={"q": "gift"}).json()
    assert found["conversations"]


def test_the_entry_offered_for_a_cluster_is_one_the_live_version_has(
    console: TestClient, faq_dir: Path, make_pipeline: Callable[..., IngestPipeline]
) -> None:
    """What retrieval considered when a question was asked names an entry of that day's
    version; offered after the entry was renamed, the console's list fell back to its
    first entry (an unrelated one). The offer is the live version's pick for the
    questions alone."""
    first = console.post("/v1/chat", json={"message": "how long do I have to return an item?"})
    follow = {"message": "to norway?", "session_id": first.json()["session_id"]}
    assert console.post("/v1/chat", json=follow).json()["mode"] == "abstained"
    shipping = faq_dir / "shipping.md"
    shipping.write_text(
        shipping.read_text(encoding="utf-8").replace("{#shipping-countries}", "{#destinations}"),
        encoding="utf-8",
    )
    assert make_pipeline().run([faq_dir]).published
    login(console, "erika")
    deadline = time.monotonic() + 10  # the service follows the pointer within seconds
    while "destinations" not in live_entries(console):
        assert time.monotonic() < deadline, "the renamed entry never went live"
        time.sleep(0.3)
    [cluster] = console.get("/admin/api/inbox").json()["clusters"]
    assert cluster["questions"] == ["to norway?"]
    assert cluster["entries"][0]["id"] == "shipping-countries"  # that day's version
    assert "shipping-countries" not in live_entries(console)
    assert cluster["suggested"] == "destinations"


def live_entries(console: TestClient) -> set[str]:
    return {e["id"] for e in console.get("/admin/api/entries").json()["entries"]}


def test_wont_answer_and_a_thumbs_down_comment(
    console: TestClient, faq_dir: Path, accounts: AdminAccounts
) -> None:
    declined = console.post("/v1/chat", json={"message": "who painted the mona lisa?"}).json()
    answered = console.post("/v1/chat", json={"message": "can I pay with paypal?"}).json()
    r = console.post(
        "/v1/feedback",
        json={"message_id": answered["message_id"], "rating": "down", "comment": "I meant Klarna"},
    )
    assert r.status_code in (200, 201, 204), r.text
    csrf = login(console, "erika")
    clusters = console.get("/admin/api/inbox").json()["clusters"]
    down = next(c for c in clusters if "thumbs_down" in c["kinds"])
    assert down["comments"] == ["I meant Klarna"] and down["entries"][0]["id"] == "payment-methods"
    art = next(c for c in clusters if "abstained" in c["kinds"])
    r = console.post(
        "/admin/api/inbox/decline",
        json={"questions": art["questions"], "ids": art["ids"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 200, r.text
    assert "who painted the mona lisa?" in parse_sources([faq_dir]).declines
    bad = console.post(
        "/admin/api/inbox/attach",
        json={"entry_id": "no-such-entry", "questions": ["x y"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert bad.status_code == 422 and "no-such-entry" in bad.text
    del declined


def test_accounts_are_created_with_the_cli(chat_settings: Settings) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "FAQBOT_DB__URL": chat_settings.db.url}

    def create(name: str, role: str, password: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "cli.main",
                "admin",
                "create-user",
                name,
                "--role",
                role,
                "--password-stdin",
            ],
            input=password + "\n",
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    made = create("erika", "editor", PASSWORD)
    assert made.returncode == 0 and "created editor erika" in made.stderr, made.stderr
    again = create("erika", "ops", PASSWORD)
    assert again.returncode != 0 and "exists already" in again.stderr
    short = create("kurt", "ops", "short")
    assert short.returncode != 0 and "at least 12 characters" in short.stderr
    assert create("kurt", "admin", PASSWORD).returncode == 2  # argparse: no such role
    accounts = AdminAccounts(make_engine(chat_settings.db.url))
    assert accounts.login("erika", PASSWORD, datetime.now(UTC)) is not None
    with make_engine(chat_settings.db.url).connect() as conn:
        stored = conn.execute(sa.text("select password_hash from admin_users")).scalar_one()
    assert stored.startswith("$argon2") and PASSWORD not in stored


def test_accounts_are_listed_reset_and_deleted_with_the_cli_and_audited(
    chat_settings: Settings,
) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "FAQBOT_DB__URL": chat_settings.db.url}

    def admin(*args: str, password: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", "admin", *args],
            input=password + "\n",
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    accounts = AdminAccounts(make_engine(chat_settings.db.url))
    accounts.create_user("otto", "ops", PASSWORD)
    accounts.create_user("erika", "editor", PASSWORD)
    session = accounts.login("erika", PASSWORD, datetime.now(UTC))
    assert session is not None
    listed = admin("users")
    assert listed.returncode == 0
    assert [line.split("\t")[:2] for line in listed.stdout.splitlines()] == [
        ["erika", "editor"],
        ["otto", "ops"],
    ]
    new = "another long password"
    reset = admin("reset-password", "erika", "--password-stdin", password=new)
    assert reset.returncode == 0, reset.stderr
    now = datetime.now(UTC)
    assert accounts.session(session.token, now) is None  # her open session ended
    assert accounts.login("erika", PASSWORD, now) is None
    assert accounts.login("erika", new, now) is not None
    assert (
        "at least 12" in admin("reset-password", "erika", "--password-stdin", password="x").stderr
    )
    missing = admin("delete-user", "nobody")
    assert missing.returncode == 1 and 'no user "nobody"' in missing.stderr
    last = admin("delete-user", "otto")
    assert last.returncode == 1 and "last ops account" in last.stderr
    assert admin("delete-user", "erika").returncode == 0
    assert [u["name"] for u in accounts.users()] == ["otto"]
    trail = [(a["user"], a["action"]) for a in accounts.audit_trail()]
    assert ("cli", "reset-password") in trail and ("cli", "delete-user") in trail


def test_replay_then_publish_then_roll_back_from_the_console(
    make_client: Callable[..., TestClient],
    faq_dir: Path,
    accounts: AdminAccounts,
    tmp_path: Path,
) -> None:
    import json

    gate = tmp_path / "gate.jsonl"
    gate.write_text(
        '{"query": "how many days do I have to send something back", "faq_id": "returns-window"}\n'
        '{"query": "do you deliver to norway", "faq_id": "shipping-countries"}\n',
        encoding="utf-8",
    )
    conversations = tmp_path / "conversations.jsonl"
    turns = [
        {"message": "how many days do I have to send something back", "expect": "returns-window"},
        {"message": "thanks!", "expect": "smalltalk"},
    ]
    conversations.write_text(json.dumps({"turns": turns}) + "\n", encoding="utf-8")
    console = make_client(
        InstantChatModel(),
        admin={
            "enabled": True,
            "faq_dir": faq_dir,
            "gate_questions": gate,
            "gate_conversations": conversations,
        },
    )
    for question in GIFT_WRAP:
        assert console.post("/v1/chat", json={"message": question}).json()["mode"] == "abstained"
    csrf = login(console, "erika")
    headers = {"X-CSRF-Token": csrf}
    cluster = console.get("/admin/api/inbox").json()["clusters"][0]
    attach = {
        "entry_id": "payment-methods",
        "questions": cluster["questions"],
        "ids": cluster["ids"],
    }
    assert console.post("/admin/api/inbox/attach", json=attach, headers=headers).status_code == 200

    replayed = console.post("/admin/api/replay", headers=headers)
    assert replayed.status_code == 200, replayed.text
    body = replayed.json()
    answered = {c["question"] for c in body["changes"] if c["kind"] == "now answered"}
    assert set(GIFT_WRAP) <= answered and body["counts"]["now declined"] == 0
    live = body["live"]

    def stream(path: str) -> list[dict[str, Any]]:
        r = console.post(path, headers=headers)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
        return [json.loads(line) for line in r.text.splitlines()]

    # streamed, for the console's progress: the lines as they come, then the result
    streamed = stream("/admin/api/replay?stream=true")
    assert streamed[-1] == {"exit": 0}
    [result] = [e["result"] for e in streamed if "result" in e]
    assert result["counts"] == body["counts"]
    progress = [e["line"] for e in streamed if "line" in e]
    assert any("built by the preview" in line for line in progress)  # not built again

    published = stream("/admin/api/publish")
    assert published[-1] == {"exit": 0}, published
    assert any("the version the preview built" in e.get("line", "") for e in published)
    assert any(e.get("line", "").startswith("gate passed") for e in published)
    assert any("conversation gate passed" in e.get("line", "") for e in published)
    wait_for_mode(console, GIFT_WRAP[0], lambda mode: mode != "abstained")

    rolled = stream("/admin/api/rollback")
    assert rolled[-1] == {"exit": 0} and any(live in e.get("line", "") for e in rolled)
    wait_for_mode(console, GIFT_WRAP[1], lambda mode: mode == "abstained")
    actions = [e["action"] for e in accounts.audit_trail()]
    assert {"replay", "publish", "rollback"} <= set(actions)


def wait_for_mode(client: TestClient, question: str, ok: Callable[[str], bool]) -> dict[str, Any]:
    """Asks until the answer's mode is as expected (the service follows the pointer within
    seconds); that answer's record."""
    deadline = time.monotonic() + 10
    while True:
        reply: dict[str, Any] = client.post("/v1/chat", json={"message": question}).json()
        if ok(reply["mode"]):
            return reply
        assert time.monotonic() < deadline, f"{question!r} never changed"
        time.sleep(0.3)


def test_exports_are_csv_and_never_formulas(console: TestClient) -> None:
    import csv
    import io

    declined = console.post("/v1/chat", json={"message": '=HYPERLINK("http://x") who painted it'})
    assert declined.json()["mode"] == "abstained"
    answered = console.post("/v1/chat", json={"message": "can I pay with paypal?"}).json()
    console.post(
        "/v1/feedback",
        json={"message_id": answered["message_id"], "rating": "down", "comment": "@SUM(1) no"},
    )
    login(console, "erika")
    unanswered = console.get("/admin/api/export/unanswered.csv")
    assert unanswered.headers["content-type"].startswith("text/csv")
    assert "attachment" in unanswered.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(unanswered.text)))
    assert rows[0] == ["created_at", "mode", "question", "entries considered"]
    assert rows[1][2].startswith("'=HYPERLINK")  # shown as text, not run as a formula
    feedback_rows = list(
        csv.reader(io.StringIO(console.get("/admin/api/export/feedback.csv").text))
    )
    assert feedback_rows[1][1:3] == ["down", "'@SUM(1) no"]
    assert console.get("/admin/api/export/secrets.csv").status_code == 404


def test_why_this_answer_for_conversations_and_typed_questions(
    make_client: Callable[..., TestClient], faq_dir: Path, accounts: AdminAccounts
) -> None:
    console = make_client(
        InstantChatModel(),
        admin={"enabled": True, "faq_dir": faq_dir},
        chat={"answer_mode": "generate"},
    )
    first = console.post("/v1/chat", json={"message": "how many days to return a jacket?"}).json()
    session = first["session_id"]
    console.post("/v1/chat", json={"message": "who painted the mona lisa?", "session_id": session})
    console.post("/v1/feedback", json={"message_id": first["message_id"], "rating": "down"})
    time.sleep(0.5)  # history is written just after the answer
    login(console, "erika")

    def found(**query: str) -> list[str]:
        r = console.get("/admin/api/conversations", params=query)
        assert r.status_code == 200, r.text
        return [c["session_id"] for c in r.json()["conversations"]]

    assert session in found(q="MONA LISA") and session in found(mode="abstained")
    assert session in found(rating="down") and session not in found(q="50%_off")
    turns = console.get(f"/admin/api/conversations/{session}").json()["turns"]
    assert [t["question"] for t in turns] == [
        "how many days to return a jacket?",
        "who painted the mona lisa?",
    ]
    answered, declined = turns[0], turns[1]
    assert answered["rating"] == "down" and declined["mode"] == "abstained"
    trace = answered["trace"]
    assert trace["candidates"][0]["id"] == "returns-window"
    assert {"score", "question_similarity", "classifier", "lexical"} <= set(trace["candidates"][0])
    assert 0 < trace["threshold"] < 1 and trace["confidence"] > trace["threshold"]
    prompt = trace["prompt"]  # generate mode: the messages sent, with token counts
    assert prompt["prefix_tokens"] > 0 and "jacket" in prompt["messages"][-1]["content"]
    assert declined["trace"]["abstain"] is True and "prompt" not in declined["trace"]
    assert console.get("/admin/api/conversations/nope").status_code == 404

    typed = console.post(
        "/admin/api/ask",
        json={"question": "Wie viele Tage habe ich für eine Rücksendung?"},
        headers={"X-CSRF-Token": login(console, "erika")},
    ).json()
    # detected as German; this test's index has no multilingual encoder: the English path
    assert typed["trace"]["lang"] == "de" and typed["trace"]["path"] == "english"
    assert typed["trace"]["candidates"]


def test_the_threshold_simulator_agrees_with_eval_and_saved_thresholds_apply_live(
    make_client: Callable[..., TestClient],
    faq_dir: Path,
    accounts: AdminAccounts,
    chat_settings: Settings,
    tmp_path: Path,
) -> None:
    import json

    from ingest.evaluate import evaluate_files

    gate = tmp_path / "gate.jsonl"
    rows = [
        ("how many days do I have to send something back", "returns-window"),
        ("where do I get the returns label", "returns-label"),
        ("do you deliver to norway", "shipping-countries"),
        ("what does delivery cost", "shipping-cost"),
        ("can I pay with paypal", "payment-methods"),
        ("who painted the mona lisa", None),
        ("tell me a joke", None),
    ]
    gate.write_text("".join(json.dumps({"query": q, "faq_id": f}) + "\n" for q, f in rows))
    console = make_client(
        InstantChatModel(), admin={"enabled": True, "faq_dir": faq_dir, "gate_questions": gate}
    )
    for question in ("how long do I have to return an item?", "do you ship abroad?"):
        console.post("/v1/chat", json={"message": question})
    csrf = login(console, "erika")
    now = console.get("/admin/api/thresholds").json()
    assert now["source"] == "calibration"
    strict = {**{k: now[k] for k in ("canonical_threshold", "canonical_margin")}}
    strict["abstain_threshold"] = 0.99  # far above any calibration: questions go declined
    sim = console.post(
        "/admin/api/thresholds/simulate", json=strict, headers={"X-CSRF-Token": csrf}
    ).json()
    assert sim["questions"] == 2
    assert any(k.endswith("-> abstained") for k in sim["changes"]), sim["changes"]
    proposed = sim["gate"]["proposed"]
    # the same questions through `faqbot eval` at the same threshold give the same figures
    for threshold, figures in (
        (now["abstain_threshold"], sim["gate"]["current"]),
        (strict["abstain_threshold"], proposed),
    ):
        settings = chat_settings.model_copy(
            update={
                "retrieval": chat_settings.retrieval.model_copy(
                    update={"abstain_threshold": threshold}
                )
            }
        )
        evaluated = evaluate_files(faq_dir, gate, settings, tmp_path / "eval", log=lambda _: None)
        assert evaluated.metrics.in_scope_accuracy == figures["in_scope_accuracy"]
        assert evaluated.metrics.oos_recall == figures["oos_recall"]

    # an editor may simulate but not save; ops saves, and the running service applies it
    assert (
        console.post(
            "/admin/api/thresholds", json=strict, headers={"X-CSRF-Token": csrf}
        ).status_code
        == 403
    )
    console.cookies.clear()
    ops_csrf = login(console, "otto")
    everything = {**strict, "abstain_threshold": 1.0}
    saved = console.post(
        "/admin/api/thresholds", json=everything, headers={"X-CSRF-Token": ops_csrf}
    )
    assert saved.status_code == 200 and saved.json()["by"] == "otto"
    deadline = time.monotonic() + 10
    while console.get("/admin/api/thresholds").json()["source"] != "console":
        assert time.monotonic() < deadline
        time.sleep(0.3)
    reply = console.post("/v1/chat", json={"message": "can I pay with paypal? (again)"}).json()
    assert reply["mode"] == "abstained"  # every answer now declines, without a restart
    assert "thresholds" in [e["action"] for e in accounts.audit_trail()]


def test_analytics_per_day_and_the_charts(console: TestClient) -> None:
    def ask(message: str, session: str | None = None) -> dict[str, Any]:
        body = {"message": message, **({"session_id": session} if session else {})}
        return console.post("/v1/chat", json=body).json()  # type: ignore[no-any-return]

    a = ask("how long do I have to return an item?")
    ask("who painted the mona lisa?", a["session_id"])
    ask("who painted the mona lisa?")  # asked again elsewhere: A was not deflected
    c = ask("can I pay with paypal?")
    handoff = console.post(
        "/v1/handoff",
        json={
            "name": "Ana",
            "email": "ana@example.com",
            "message": "call me",
            "session_id": c["session_id"],
        },
    )
    assert handoff.status_code in (200, 201, 202), handoff.text
    console.post("/v1/feedback", json={"message_id": a["message_id"], "rating": "down"})
    time.sleep(0.5)  # history is written just after the answer
    login(console, "erika")
    [today] = console.get("/admin/api/analytics").json()["days"]
    assert today["questions"] == 4 and today["modes"]["abstained"] == 2
    assert today["abstain_rate"] == 0.5 and today["thumbs_down_rate"] == 0.25
    assert today["deflection"] == round(1 / 3, 4)  # only the second conversation
    assert today["p50_ms"] is not None and today["p95_ms"] >= today["p50_ms"]
    png = console.get("/admin/api/charts.png")
    assert png.headers["content-type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_cluster_becomes_a_new_draft_entry(console: TestClient, faq_dir: Path) -> None:
    for question in GIFT_WRAP:
        console.post("/v1/chat", json={"message": question})
    csrf = login(console, "erika")
    cluster = console.get("/admin/api/inbox").json()["clusters"][0]
    body = {
        "entry_id": "gift-wrapping",
        "question": "Do you offer gift wrapping?",
        "answer": "Not yet: every parcel comes in our **plain recycled box**.",
        "questions": cluster["questions"],
        "ids": cluster["ids"],
    }
    headers = {"X-CSRF-Token": csrf}
    made = console.post("/admin/api/inbox/draft", json=body, headers=headers)
    assert made.status_code == 200, made.text and made.json()["path"].endswith("drafts.md")
    entry = {e.id: e for e in parse_sources([faq_dir]).entries}["gift-wrapping"]
    assert entry.question == "Do you offer gift wrapping?" and "recycled box" in entry.answer
    assert set(GIFT_WRAP) - {"do you offer gift wrapping?"} <= set(entry.questions)
    again = console.post("/admin/api/inbox/draft", json=body, headers=headers)
    assert again.status_code == 422 and "exists already" in again.text
    bad = console.post(
        "/admin/api/inbox/draft",
        json={**body, "entry_id": "x2", "file": "../../etc.md"},
        headers=headers,
    )
    assert bad.status_code == 422


def test_a_database_that_is_down_is_a_503_not_an_error(console: TestClient) -> None:
    login(console, "erika")
    # the inbox's database stops answering (a port nobody listens on, 1 s to find out)
    console.app.state.console.engine = make_engine(  # type: ignore[attr-defined]
        "postgresql+psycopg://postgres@127.0.0.1:9/none", connect_timeout_s=1
    )
    for path in ("/admin/api/inbox", "/admin/api/analytics", "/admin/api/export/feedback.csv"):
        r = console.get(path)
        assert r.status_code == 503, (path, r.text)
        assert "temporarily unavailable" in r.json()["detail"]


def test_customer_questions_cannot_break_the_faq_sources(
    console: TestClient, faq_dir: Path
) -> None:
    """Questions a customer could plant in the inbox, attached to an entry defined in
    front matter, keep the file parseable; unreadable text and a draft into the decline
    list are refused with the reason."""
    csrf = login(console, "erika")
    hostile = ["what's @ the [store]", "!!python/object/apply:os.system ['id']", "yes", "a: b"]
    r = console.post(
        "/admin/api/inbox/attach",
        json={"entry_id": "payment-methods", "questions": hostile},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 200, r.text
    parsed = parse_sources([faq_dir])
    assert parsed.errors == []
    entry = next(e for e in parsed.entries if e.id == "payment-methods")
    assert list(entry.questions[-4:]) == hostile
    surrogate = console.post(
        "/admin/api/inbox/attach",
        content=b'{"entry_id": "payment-methods", "questions": ["bad \\ud800"]}',
        headers={"X-CSRF-Token": csrf, "content-type": "application/json"},
    )
    assert surrogate.status_code == 422
    declined = console.post(
        "/admin/api/inbox/draft",
        json={**DRAFT, "file": "decline_examples.md"},
        headers={"X-CSRF-Token": csrf},
    )
    assert declined.status_code == 422 and "never be published" in declined.json()["detail"]
