"""The real service for browser tests: the shop's own FAQ (data/faq) in a real index, the
embedded SmolLM2 model, SQLite with two customers' orders, a local SMTP server for
handoff mail, and a second origin that embeds the widget. Chromium is Debian's, driven
by Playwright; nothing is downloaded. Screenshots go to var/screenshots/ (git-ignored).

Playwright's sync API runs an event loop in this thread while it is started, so it is
started for this package only and stopped before the other tests (which use asyncio)."""

from __future__ import annotations

import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOMY_LIMITS

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"
EDITOR_PASSWORD = "correct horse battery"
CHROMIUM = os.environ.get("FAQBOT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(BytesParser().parsebytes(envelope.content))  # type: ignore[arg-type]
        return "250 OK"


@dataclass
class Shop:
    url: str  # the faqbot service
    shop_url: str  # another origin, whose page embeds the widget
    db_url: str
    mailbox: Mailbox
    faq_dir: Path  # a copy of data/faq, which the console edits
    hooks: Any = None  # the shop's webhook for order requests (tests/fakes/webhook_receiver)


def _shop_page(service: str) -> bytes:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Northwind shop</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>body {{ font-family: Georgia, serif; }} button {{ background: hotpink !important; }}
p {{ color: #222; }}</style></head>
<body><main><h1>Northwind Outdoor</h1><p>Jackets, boots and more.</p></main>
<script type="module" src="{service}/widget.js" data-faqbot-url="{service}"></script>
</body></html>""".encode()


def _serve_shop(port: int, service: str) -> http.server.ThreadingHTTPServer:
    body = _shop_page(service)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="package")
def shop(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[Shop]:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is installed by `make test`")
    from aiosmtpd.controller import Controller

    from cli.console_runner import WorkerIngestRunner
    from ingest.pipeline import IngestPipeline
    from service.admin.accounts import AdminAccounts
    from service.app import create_app
    from service.config import Settings
    from service.db.engine import make_engine
    from service.db.migrations import upgrade
    from service.llm.llamacpp import LlamaCppChatModel
    from service.retrieval.crosslingual import UseEmbedder
    from service.retrieval.live import LiveRetriever
    from service.retrieval.retriever import Retriever
    from service.retrieval.store import IndexStore
    from service.retrieval.vector_index import make_vector_backend
    from tests.fakes.webhook_receiver import SECRET, WebhookReceiver
    from tests.integration.shop import seed_two_customers
    from tests.live_server import LiveServer, free_port

    tmp = tmp_path_factory.mktemp("browser")
    db_url = f"sqlite:///{tmp / 'faqbot.db'}"
    upgrade(db_url)
    seed_two_customers(db_url)
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    hooks = WebhookReceiver().__enter__()
    shop_port = free_port()
    faq_dir = tmp / "faq"
    shutil.copytree(ROOT / "data" / "faq", faq_dir)
    AdminAccounts(make_engine(db_url)).create_user("erika", "editor", EDITOR_PASSWORD)
    AdminAccounts(make_engine(db_url)).create_user("anna", "agent", EDITOR_PASSWORD)
    settings = Settings(
        index={"path": tmp / "index"},
        db={"url": db_url},
        admin={"enabled": True, "faq_dir": faq_dir},
        web={"allowed_origins": [f"http://127.0.0.1:{shop_port}"]},
        handoff={"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_starttls": False},
        requests={"webhook_url": hooks.url, "webhook_secret": SECRET},
        limits=ROOMY_LIMITS,
    )
    store = IndexStore(settings.index.path)
    backend = make_vector_backend(settings.index, embedder)
    encoder = UseEmbedder()  # customers in other languages, as the product runs
    IngestPipeline(
        settings, embedder, backend, store, log=lambda _: None, multilingual=encoder
    ).run([faq_dir])
    live = LiveRetriever(
        store,
        lambda v: Retriever.open(
            store, backend, embedder, settings.retrieval, version=v, multilingual=encoder
        ),
    )
    app = create_app(
        settings,
        model=LlamaCppChatModel(None, settings.llm.num_ctx),
        retriever=live,
        ingest_runner=WorkerIngestRunner(),  # as `faqbot serve` wires it
    )
    server = LiveServer(app, settings)
    shop_server = _serve_shop(shop_port, server.url)
    try:
        url = server.start()
        yield Shop(url, f"http://127.0.0.1:{shop_port}", db_url, mailbox, faq_dir, hooks)
    finally:
        server.stop()
        shop_server.shutdown()
        smtp.stop()
        hooks.__exit__(None, None, None)


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("FAQBOT_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class Console:
    """Console errors, page errors and CSP violations a page reported."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1100, "height": 820})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.console = Console(page)  # type: ignore[attr-defined]
    yield page
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()
