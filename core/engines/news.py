"""The news engine: refreshes every news source on a schedule, and at once when the watchlist or the feeds
change. A failing source is recorded in its status by the service; the loop itself never stops on one."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from core.services.news import NewsService
from core.services.settings import Tunables

log = structlog.get_logger("engine.news")

WATCHED_KEYS = frozenset({"watchlist", "news_feeds"})


class NewsEngine:
    def __init__(self, service: NewsService, *, interval: float) -> None:
        self._service = service
        self._interval = interval
        self._wake = asyncio.Event()
        self.cycles = 0

    async def on_settings(self, _tunables: Tunables, changed: set[str]) -> None:
        """A settings listener: a new watchlist or feed list is fetched now, not at the next tick."""
        if changed & WATCHED_KEYS:
            self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                stored = await self._service.refresh()
            except Exception as exc:  # the database may be briefly away; the next cycle tries again
                log.error("news.refresh_failed", error=str(exc), exc_info=exc)
            else:
                if stored:
                    log.info("news.stored", count=len(stored))
            self.cycles += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
