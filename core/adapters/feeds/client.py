"""One client for every configured feed. Each URL remembers its last `ETag` and `Last-Modified`, sent back as
`If-None-Match` / `If-Modified-Since`, so an unchanged feed costs a 304 and no parsing.

feedparser parses the bytes we fetched (it never fetches itself: httpx owns timeouts and errors). A feed
feedparser flags as malformed (`bozo`) is still used for what parsed, and the flag is reported; a body with
no feed in it at all is an error. Entries without a link, a title or a date are skipped and counted: a date is
never invented.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser
import httpx
import structlog

from core.adapters.error_map import SERVER_ERROR, ErrorTable, Fault, core_error
from core.domain.news import FeedFetch, NewsItem
from core.errors import ExternalPermanent, ExternalTransient

log = structlog.get_logger("feeds")

ERRORS: ErrorTable = (
    ((429, SERVER_ERROR), lambda f: ExternalTransient(f"{f.vendor} answered HTTP {f.status}", details=f.details)),
    (int, lambda f: ExternalPermanent(f"{f.vendor} answered HTTP {f.status}", details=f.details)),
)


@dataclass(slots=True)
class _Validators:
    etag: str | None = None
    last_modified: str | None = None


def _when(entry: Any) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if parsed is None:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), UTC)


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


class FeedClient:
    """Use as an async context manager or call `aclose()`."""

    def __init__(self, *, transport: httpx.AsyncBaseTransport | None = None, timeout: float = 10.0) -> None:
        self._client = httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=True,
                                         headers={"User-Agent": "trading-assistant",
                                                  "Accept": "application/rss+xml, application/atom+xml, "
                                                            "application/xml;q=0.9, */*;q=0.5"})
        self._validators: dict[str, _Validators] = {}

    async def __aenter__(self) -> FeedClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, url: str, label: str) -> FeedFetch:
        """The feed's entries as items of source `feed:<label>`; ExternalTransient when unreachable."""
        known = self._validators.setdefault(url, _Validators())
        headers = {}
        if known.etag:
            headers["If-None-Match"] = known.etag
        if known.last_modified:
            headers["If-Modified-Since"] = known.last_modified
        try:
            response = await self._client.get(url, headers=headers)
        except httpx.TimeoutException as exc:
            raise ExternalTransient(f"feed '{label}' timed out") from exc
        except httpx.TransportError as exc:
            raise ExternalTransient(f"feed '{label}' is unreachable ({type(exc).__name__})") from exc
        if response.status_code == 304:
            return FeedFetch((), not_modified=True)
        if response.status_code != 200:
            raise core_error(ERRORS, Fault(f"feed '{label}'", response.status_code,
                                           details={"http_status": response.status_code}))
        parsed = feedparser.parse(response.content, response_headers={k.lower(): v for k, v in
                                                                      response.headers.items()})
        malformed = str(parsed.get("bozo_exception")) if parsed.get("bozo") else None
        if not parsed.get("version") and not parsed.entries:
            raise ExternalPermanent(f"feed '{label}' is not an RSS or Atom feed ({malformed or 'no entries'})")
        fetched = self._items(parsed.entries, f"feed:{label}", str(parsed.feed.get("title") or label))
        known.etag = response.headers.get("ETag")
        known.last_modified = response.headers.get("Last-Modified")
        if malformed:
            log.warning("feed_malformed", label=label, error=malformed)
        return FeedFetch(fetched[0], skipped=fetched[1], malformed=malformed)

    @staticmethod
    def _items(entries: list[Any], source: str, publisher: str) -> tuple[tuple[NewsItem, ...], int]:
        items, skipped = [], 0
        for entry in entries:
            title, link, when = _text(entry.get("title")), _text(entry.get("link")), _when(entry)
            if title is None or link is None or when is None:
                skipped += 1
                continue
            items.append(NewsItem(source=source, title=title, url=link, published_at=when,
                                  summary=_text(entry.get("summary")), publisher=publisher))
        return tuple(items), skipped
