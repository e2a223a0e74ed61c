"""Chat page benchmark in Debian's Chromium: what the page weighs, that every request
stays on the service's origin, and how long after the server's first SSE token the
customer sees it (and after pressing Enter).

Run: .venv/bin/python bench/web_page.py [--runs 20]
Prints the numbers and rewrites its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import machine_description, table, write_section  # noqa: E402
from bench.shop import ingest_shop_faq  # noqa: E402
from service.app import create_app  # noqa: E402
from service.config import Settings  # noqa: E402
from service.db.migrations import upgrade  # noqa: E402
from service.llm.base import ChatMessage, GenerationOptions  # noqa: E402
from tests.fakes.instant_model import InstantChatModel  # noqa: E402
from tests.live_server import LiveServer  # noqa: E402

# Records, in the page, when the first streamed text appears (wall clock, like the
# server's). Injected through the DevTools protocol, so the page's CSP is untouched.
WATCH = """
window.__firstToken = null;
new MutationObserver(() => {
  if (window.__firstToken === null && document.querySelector('.fb-streaming')) {
    window.__firstToken = Date.now();
  }
}).observe(document, { subtree: true, childList: true, attributes: true });
"""


class PacedModel(InstantChatModel):
    """Answers word by word, 30 ms apart, and notes when it produced the first word."""

    def __init__(self) -> None:
        super().__init__("You can return unworn items within 30 days of delivery [1].")
        self.first_at: list[float] = []

    async def stream(
        self, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> AsyncIterator[str]:
        await asyncio.sleep(0.2)  # a model's time to first token
        for n, word in enumerate(self.default_reply.split(" ")):
            if n == 0:
                self.first_at.append(time.time() * 1000)
            yield word + " "
            await asyncio.sleep(0.03)


def pct(xs: Sequence[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/faqbot.db"
        upgrade(url)
        settings = Settings(
            index={"path": f"{tmp}/index"},
            db={"url": url},
            chat={"answer_mode": "generate", "cache_size": 0},
        )
        ingest_shop_faq(settings)
        model = PacedModel()
        server = LiveServer(create_app(settings, model=model), settings)
        base = server.start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path="/usr/bin/chromium",
                    args=["--no-sandbox", "--disable-background-networking"],
                )
                weight, foreign = page_weight(browser, base)
                after_sse, after_enter = first_tokens(browser, base, model, args.runs)
                browser.close()
        finally:
            server.stop()

    rows = {
        "page weight (everything the page loads, uncompressed)": f"{weight / 1024:.1f} KB",
        "requests to another origin": str(len(foreign)),
        "first visible token after the server's first SSE token (p50 / p95 / max)": (
            f"{statistics.median(after_sse):.1f} / {pct(after_sse, 0.95):.1f} / "
            f"{max(after_sse):.1f} ms over {len(after_sse)} questions"
        ),
        "first visible token after pressing Enter (p50 / p95), model's first token at 200 ms": (
            f"{statistics.median(after_enter):.0f} / {pct(after_enter, 0.95):.0f} ms"
        ),
    }
    write_section(
        "Chat page in Chromium (bench/web_page.py)",
        f"{machine_description()}, Python {platform.python_version()}, Debian Chromium "
        f"headless, generate mode with a paced model\n\n{table(rows)}",
    )


def page_weight(browser: object, base: str) -> tuple[int, list[str]]:
    page = browser.new_page()  # type: ignore[attr-defined]
    sizes: list[int] = []
    foreign: list[str] = []

    def on_response(response: object) -> None:
        if not response.url.startswith(base):  # type: ignore[attr-defined]
            foreign.append(response.url)  # type: ignore[attr-defined]
        with contextlib.suppress(Exception):  # redirects and aborted requests have no body
            sizes.append(len(response.body()))  # type: ignore[attr-defined]

    page.on("response", on_response)
    page.goto(base, wait_until="networkidle")
    page.close()
    return sum(sizes), foreign


def first_tokens(
    browser: object, base: str, model: PacedModel, runs: int
) -> tuple[list[float], list[float]]:
    after_sse: list[float] = []
    after_enter: list[float] = []
    for n in range(runs):
        page = browser.new_page()  # type: ignore[attr-defined]
        page.add_init_script(WATCH)
        page.goto(base)
        box = page.get_by_label("Your question")
        box.fill(f"How long do I have to return a jacket? ({n})")
        pressed = time.time() * 1000
        box.press("Enter")
        page.locator(".fb-meta").wait_for()
        seen = page.evaluate("() => window.__firstToken")
        after_sse.append(seen - model.first_at[-1])
        after_enter.append(seen - pressed)
        page.close()
    return after_sse, after_enter


if __name__ == "__main__":
    main()
