"""Help pages listed in a sitemap (sitemaps.org protocol: a <urlset> of <url><loc>, or a
<sitemapindex> of further sitemaps), fetched for `faqbot import html URL`.

Only pages on the sitemap's own host are fetched: the shop controls that host, and a
sitemap that names other hosts (or a redirect to one) must not make the importer a
client of someone else's. Every request has a timeout and a size cap; one page that
cannot be fetched refuses the whole import, so a scheduled re-sync never mistakes a
passing outage for articles the source dropped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

MAX_BYTES = 5_000_000  # a sitemap may list 50,000 URLs in 50 MB; a help center is small
MAX_PAGES = 2_000
MAX_REDIRECTS = 5
MAX_SITEMAPS = 20  # an index and the sitemaps it names
USER_AGENT = "faqbot-import (+https://github.com/faqbot)"


class SitemapError(ValueError):
    """The sitemap or one of its pages cannot be read; the message names the URL."""


@dataclass(frozen=True)
class FetchedPage:
    url: str
    html: str


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def fetch_pages(
    sitemap_url: str,
    timeout: float = 10.0,
    progress: Callable[[int, int], None] = lambda done, total: None,
    transport: httpx.BaseTransport | None = None,
) -> list[FetchedPage]:
    """Every page the sitemap lists, in its order."""
    host = _host(sitemap_url)
    with httpx.Client(
        timeout=timeout,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        transport=transport,
    ) as client:
        urls = _page_urls(client, sitemap_url, host)
        pages = []
        for done, url in enumerate(urls, 1):
            pages.append(FetchedPage(url, _get(client, url, host)))
            progress(done, len(urls))
    return pages


def _host(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SitemapError(f"{url}: not an http(s) URL")
    return parts.netloc.lower()


def _page_urls(client: httpx.Client, sitemap_url: str, host: str) -> list[str]:
    pending, seen, pages = [sitemap_url], set[str](), list[str]()
    while pending:
        url = pending.pop(0)
        if url in seen:
            continue
        seen.add(url)
        if len(seen) > MAX_SITEMAPS:
            raise SitemapError(f"{sitemap_url}: more than {MAX_SITEMAPS} sitemaps")
        kind, locs = _locations(url, _get(client, url, host))
        for loc in locs:
            if _host(loc) != host:
                raise SitemapError(f"{url}: lists {loc}, on another host than {host}")
        (pending if kind == "sitemapindex" else pages).extend(locs)
    pages = list(dict.fromkeys(pages))
    if len(pages) > MAX_PAGES:
        raise SitemapError(f"{sitemap_url}: {len(pages)} pages, more than {MAX_PAGES}")
    return pages


def _locations(url: str, text: str) -> tuple[str, list[str]]:
    # a sitemap needs no DTD; refusing one rules out entity expansion
    if re.search(r"<!(DOCTYPE|ENTITY)", text, re.I):
        raise SitemapError(f"{url}: a sitemap with a DOCTYPE or ENTITY is refused")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise SitemapError(f"{url}: not XML ({exc})") from exc
    kind = root.tag.rsplit("}", 1)[-1]
    if kind not in ("urlset", "sitemapindex"):
        raise SitemapError(f"{url}: not a sitemap (the root is <{kind}>)")
    locs = [
        urljoin(url, (el.text or "").strip())
        for el in root.iter()
        if el.tag.rsplit("}", 1)[-1] == "loc" and (el.text or "").strip()
    ]
    return kind, locs


def _get(client: httpx.Client, url: str, host: str) -> str:
    """The body of a page, following redirects that stay on the host."""
    for _ in range(MAX_REDIRECTS + 1):
        target = _get_once(client, url)
        if not isinstance(target, _Redirect):
            return target
        if _host(target.to) != host:
            raise SitemapError(f"{url}: redirects to another host ({target.to})")
        url = target.to
    raise SitemapError(f"{url}: more than {MAX_REDIRECTS} redirects")


@dataclass(frozen=True)
class _Redirect:
    to: str


def _get_once(client: httpx.Client, url: str) -> str | _Redirect:
    try:
        with client.stream("GET", url) as response:
            if response.is_redirect:
                return _Redirect(urljoin(url, response.headers.get("location", "")))
            if response.status_code != 200:
                raise SitemapError(f"{url}: HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise SitemapError(f"{url}: larger than {MAX_BYTES // 1_000_000} MB")
            return body.decode(response.encoding or "utf-8", errors="replace")
    except httpx.TimeoutException as exc:
        raise SitemapError(f"{url}: no answer within the timeout ({exc})") from exc
    except httpx.HTTPError as exc:
        raise SitemapError(f"{url}: {type(exc).__name__}: {exc}") from exc
