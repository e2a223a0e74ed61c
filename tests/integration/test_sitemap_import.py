"""`faqbot import html URL`: the pages a sitemap lists (sitemaps.org: a <sitemapindex>
naming <urlset> sitemaps), fetched over real HTTP from a local help site; only from the
sitemap's own host, with timeouts and size caps, and a page that fails refuses the
whole import so that a scheduled re-sync changes nothing on a bad day."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.main import main
from ingest.help_center import SourceImportError, read_source
from ingest.sitemap import fetch_pages
from service.sources.parse import parse_sources

pytestmark = pytest.mark.integration
PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "imports" / "pages"
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
SHIPPING = """<!doctype html><html><head><title>Shipping | Home & Hearth</title></head>
<body><header>Home & Hearth</header><main><h1>Do you ship rugs abroad?</h1>
<p>We ship rugs to the EU and the UK.</p></main></body></html>"""


class HelpSite:
    """A help site whose routes a test sets: path -> (status, headers, body)."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], str]] = {}
        self.delay: dict[str, float] = {}
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server API)
                time.sleep(site.delay.get(self.path, 0.0))
                status, headers, body = site.routes.get(self.path, (404, {}, "not found"))
                data = body.encode()
                self.send_response(status)
                for key, value in {"Content-Length": str(len(data)), **headers}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def page(self, path: str, body: str, content_type: str = "text/html") -> None:
        self.routes[path] = (200, {"Content-Type": f"{content_type}; charset=utf-8"}, body)

    def sitemap(self, path: str, locs: list[str], kind: str = "urlset") -> None:
        tag = "url" if kind == "urlset" else "sitemap"
        items = "".join(f"<{tag}><loc>{loc}</loc></{tag}>" for loc in locs)
        xml = f'<?xml version="1.0" encoding="UTF-8"?><{kind} {NS}>{items}</{kind}>'
        self.page(path, xml, "application/xml")


@pytest.fixture
def site() -> Iterator[HelpSite]:
    site = HelpSite()
    thread = threading.Thread(target=site.server.serve_forever, daemon=True)
    thread.start()
    yield site
    site.server.shutdown()
    site.server.server_close()


@pytest.fixture
def help_center(site: HelpSite) -> HelpSite:
    site.sitemap("/sitemap.xml", [f"{site.base}/sitemap-help.xml"], kind="sitemapindex")
    site.sitemap(
        "/sitemap-help.xml",
        [f"{site.base}/help/returns-policy.html", f"{site.base}/help/shipping"],
    )
    site.page("/help/returns-policy.html", (PAGES / "returns-policy.html").read_text("utf-8"))
    site.page("/help/shipping", SHIPPING)
    return site


def test_a_sitemaps_pages_become_entries_with_the_ids_files_would_get(
    help_center: HelpSite,
) -> None:
    entries = read_source("html", f"{help_center.base}/sitemap.xml")
    by_file = {e.id: e for e in read_source("html", PAGES)}
    by_url = {e.id: e for e in entries}
    assert set(by_url) == {"page-returns-policy", "page-shipping"}
    assert by_url["page-returns-policy"] == by_file["page-returns-policy"]
    assert by_url["page-shipping"].question == "Do you ship rugs abroad?"
    assert "Home & Hearth" not in by_url["page-shipping"].answer


def test_the_cli_imports_shows_progress_and_a_re_sync_changes_nothing(
    help_center: HelpSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    faq, url = tmp_path / "faq", f"{help_center.base}/sitemap.xml"
    assert main(["import", "html", url, "--into", str(faq)]) == 0
    out = capsys.readouterr()
    assert "2 added" in out.out and "fetched 2/2 pages" in out.err
    assert {e.id for e in parse_sources([faq]).entries} == {"page-returns-policy", "page-shipping"}
    target = faq / "imported-html.md"
    stamp = target.stat().st_mtime_ns
    assert main(["import", "html", url, "--into", str(faq)]) == 0
    assert "nothing to write" in capsys.readouterr().out
    assert target.stat().st_mtime_ns == stamp


def test_a_page_that_fails_refuses_the_import_and_the_file_stays(
    help_center: HelpSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    faq, url = tmp_path / "faq", f"{help_center.base}/sitemap.xml"
    assert main(["import", "html", url, "--into", str(faq)]) == 0
    target = faq / "imported-html.md"
    before = target.read_text(encoding="utf-8")
    help_center.routes["/help/shipping"] = (503, {}, "down for maintenance")
    capsys.readouterr()
    assert main(["import", "html", url, "--into", str(faq)]) == 1
    assert f"{help_center.base}/help/shipping: HTTP 503" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == before  # not "gone": nothing changed


def test_pages_on_another_host_and_redirects_away_are_refused(
    help_center: HelpSite, site: HelpSite
) -> None:
    site.sitemap("/elsewhere.xml", ["http://169.254.169.254/latest/meta-data/"])
    with pytest.raises(SourceImportError, match="on another host"):
        read_source("html", f"{site.base}/elsewhere.xml")
    site.routes["/help/shipping"] = (302, {"Location": "http://10.0.0.1/admin"}, "")
    with pytest.raises(SourceImportError, match="redirects to another host"):
        read_source("html", f"{site.base}/sitemap.xml")
    # a redirect on the same host is followed
    site.routes["/help/shipping"] = (301, {"Location": "/help/shipping-new"}, "")
    site.page("/help/shipping-new", SHIPPING)
    assert len(read_source("html", f"{site.base}/sitemap.xml")) == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<html><body>not a sitemap</body></html>", "not a sitemap"),
        ("<urlset", "not XML"),
        (
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><urlset>&a;</urlset>',
            "DOCTYPE or ENTITY is refused",
        ),
    ],
)
def test_what_is_not_a_sitemap_is_refused_in_words(site: HelpSite, body: str, message: str) -> None:
    site.page("/sitemap.xml", body, "application/xml")
    with pytest.raises(SourceImportError, match=message):
        read_source("html", f"{site.base}/sitemap.xml")


def test_a_slow_page_times_out_instead_of_hanging(help_center: HelpSite) -> None:
    from ingest.sitemap import SitemapError

    help_center.delay["/help/shipping"] = 3.0
    with pytest.raises(SitemapError, match="no answer within the timeout"):
        fetch_pages(f"{help_center.base}/sitemap.xml", timeout=0.3)


def test_only_http_urls_are_fetched() -> None:
    with pytest.raises(SourceImportError, match="no such file"):
        read_source("html", "file:///etc/passwd")
    from ingest.sitemap import SitemapError

    with pytest.raises(SitemapError, match="not an http"):
        fetch_pages("https://")
