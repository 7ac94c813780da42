"""A local feed host (aiohttp on 127.0.0.1) serving the RSS and Atom test inputs in tests/fixtures/feeds/ the
way a real web server does: `ETag` and `Last-Modified` on every answer, `304 Not Modified` when the client
sends them back unchanged, and a new validator whenever a feed's body changes::

    async with FeedHost() as host:
        url = host.url("markets_rss.xml")
        host.add_rss_item("markets_rss.xml", title=..., link=..., published=datetime)   # the feed changes
        host.fail("markets_rss.xml", 503)                                                 # next request
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

from aiohttp import web

from tests.doubles import FIXTURES_DIR

FEEDS = FIXTURES_DIR / "feeds"


@dataclass
class Hit:
    name: str
    status: int
    if_none_match: str | None
    if_modified_since: str | None


class FeedHost:
    def __init__(self) -> None:
        self.bodies = {path.name: path.read_text() for path in FEEDS.glob("*.xml")}
        self.modified = {name: "Fri, 04 Dec 2026 21:05:00 GMT" for name in self.bodies}
        self.hits: list[Hit] = []
        self.faults: dict[str, deque[int]] = {}
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def __aenter__(self) -> FeedHost:
        app = web.Application()
        app.router.add_get("/{name}", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}"

    def fail(self, name: str, status: int, times: int = 1) -> None:
        self.faults.setdefault(name, deque()).extend([status] * times)

    def add_rss_item(self, name: str, *, title: str, link: str, published: datetime, summary: str = "") -> None:
        """Put a new item at the top of an RSS feed (the feed's validators change with it)."""
        item = (f"<item><title>{escape(title)}</title><link>{escape(link)}</link>"
                f"<guid isPermaLink=\"true\">{escape(link)}</guid>"
                f"<pubDate>{format_datetime(published, usegmt=True)}</pubDate>"
                f"<description>{escape(summary)}</description></item>")
        self.bodies[name] = self.bodies[name].replace("<item>", item + "\n    <item>", 1)
        self.modified[name] = format_datetime(published, usegmt=True)

    def etag(self, name: str) -> str:
        return '"' + hashlib.sha256(self.bodies[name].encode()).hexdigest()[:16] + '"'

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        inm, ims = request.headers.get("If-None-Match"), request.headers.get("If-Modified-Since")
        queue = self.faults.get(name)
        if queue:
            status = queue.popleft()
            self.hits.append(Hit(name, status, inm, ims))
            return web.Response(status=status, text="unavailable")
        if name not in self.bodies:
            self.hits.append(Hit(name, 404, inm, ims))
            return web.Response(status=404, text="not found")
        etag, modified = self.etag(name), self.modified[name]
        unchanged = inm == etag if inm is not None else ims == modified
        status = 304 if (inm is not None or ims is not None) and unchanged else 200
        self.hits.append(Hit(name, status, inm, ims))
        headers = {"ETag": etag, "Last-Modified": modified}
        if status == 304:
            return web.Response(status=304, headers=headers)
        return web.Response(body=self.bodies[name].encode(), headers=headers, content_type="application/rss+xml"
                            if "rss" in name else "application/atom+xml")
