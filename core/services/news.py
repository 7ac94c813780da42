"""News and earnings as use cases: refresh every source into storage, list stored news, answer earnings
questions, and give plan validation the warnings that need this data.

Every source keeps a `SourceStatus` (ok, disabled, not_entitled, error), and every answer carries the statuses
of the sources it asked, so a front-end can say "Polygon news is not in your plan" or "feed 'x' unreachable"
instead of showing an empty list as if nothing had happened.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.exc import SQLAlchemyError

from core.db.base import new_id
from core.db.repositories.alerts import PENDING, DeliveryRepository
from core.db.repositories.news import NewsRepository, NewsSourceRepository
from core.db.session import Database
from core.domain.alerts import Channel
from core.domain.confidence import Factor
from core.domain.events import NewsEvent, NewsSentimentTag
from core.domain.news import (
    ET,
    EarningsAnswer,
    EarningsDate,
    EarningsTime,
    Hold,
    NewsItem,
    SourceStatus,
    earnings_in_hold,
    event_risk,
    mentioned_symbols,
    news_breaking,
)
from core.domain.plans import Issue
from core.domain.symbols import normalize_symbol
from core.engines.alert_events import wanted
from core.errors import CoreError, IntegrationDisabled, Invalid, NotEntitled
from core.ports import EarningsSource, EventBus, FeedReader, NewsSource
from core.services.settings import NEWS_ALERT, NEWS_CHANNELS, NewsFeed, SettingsService, Tunables

log = structlog.get_logger("service.news")

POLYGON = "polygon"
MAX_SYMBOLS = 50
MAX_EARNINGS_DAYS = 120
EARNINGS_TTL_SEC = 900.0
# Only what was published in the last day is announced on /ws; older items are backfill, stored quietly.
ANNOUNCE_WITHIN = timedelta(days=1)
PLAN_LOOKAHEAD_DAYS = 4
LATEST_TTL_SEC = 2.0
DEFAULT_BREAKING_MINUTES = 30  # the `news_breaking_minutes` tunable's default, until the first refresh reads it


@dataclass(frozen=True, slots=True)
class EarningsProvider:
    """One earnings calendar, or why it is off (`source` = None)."""

    name: str
    source: EarningsSource | None
    disabled_reason: str = ""
    how_to_enable: str = ""


@dataclass(frozen=True, slots=True)
class NewsPage:
    items: tuple[NewsItem, ...]
    next_cursor: str | None
    sources: tuple[SourceStatus, ...]


def encode_cursor(item: NewsItem) -> str:
    raw = f"{item.published_at.astimezone(UTC).isoformat()}|{item.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        stamp, news_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split("|", 1)
        moment = datetime.fromisoformat(stamp)
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise Invalid("cursor is not one this API returned; pass next_cursor from the previous page as is",
                      details=[{"field": "cursor", "message": "unreadable cursor"}]) from exc
    if moment.tzinfo is None or not news_id:
        raise Invalid("cursor is not one this API returned", details=[{"field": "cursor", "message": "bad cursor"}])
    return moment, news_id


def parse_symbols(raw: str | None) -> list[str]:
    """A comma-separated symbol list (normalised, deduplicated, at most MAX_SYMBOLS)."""
    try:
        symbols = list(dict.fromkeys(normalize_symbol(part) for part in (raw or "").split(",") if part.strip()))
    except Invalid as exc:
        raise Invalid(f"symbols: {exc.message}", details=[{"field": "symbols", "message": exc.message}]) from exc
    if len(symbols) > MAX_SYMBOLS:
        raise Invalid(f"at most {MAX_SYMBOLS} symbols per request",
                      details=[{"field": "symbols", "message": f"{len(symbols)} given"}])
    return symbols


def news_event(item: NewsItem) -> NewsEvent:
    assert item.id is not None
    return NewsEvent(id=item.id, source=item.source, title=item.title, url=item.url,
                     published_at=item.published_at.astimezone(UTC).isoformat(), symbols=list(item.symbols),
                     sentiment=[NewsSentimentTag(s.symbol, s.value.value, s.reasoning) for s in item.sentiment],
                     summary=item.summary)


def outbox_row(item: NewsItem, channel: str, now: datetime) -> dict[str, Any]:
    """An `alert_deliveries` row for a news item: written in the transaction that stored the item, so an item
    is queued once per channel (the unique (news_id, channel) pair holds it across processes)."""
    return {"id": new_id(), "trigger_id": None, "news_id": item.id, "channel": channel, "status": PENDING,
            "attempts": 0, "next_attempt_at": now, "last_error": None, "delivered_at": None, "latency_ms": None,
            "created_at": now}


def _status_of(source: str, exc: CoreError) -> SourceStatus:
    if isinstance(exc, NotEntitled):
        return SourceStatus(source, "not_entitled", exc.message, "upgrade the vendor plan to include this data set")
    if isinstance(exc, IntegrationDisabled):
        return SourceStatus(source, "disabled", exc.reason, exc.how_to_enable)
    return SourceStatus(source, "error", exc.message)


class NewsService:
    """Built by the runtime; `polygon=None` means Polygon news is off (`polygon_disabled` says why)."""

    def __init__(self, db: Database, bus: EventBus, settings: SettingsService, *, feeds: FeedReader,
                 polygon: NewsSource | None, polygon_disabled: str = "",
                 polygon_how_to_enable: str = "", earnings: Sequence[EarningsProvider] = (),
                 webhook_types: Sequence[str] = ()) -> None:
        self._db, self._bus, self._settings, self._feeds = db, bus, settings, feeds
        self._webhook_types = tuple(webhook_types)
        self.on_queued: Callable[[], None] | None = None  # the delivery engine's wake, set by the runtime
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # what "just published" is measured from
        self._polygon = polygon
        self._status: dict[str, SourceStatus] = {}
        if polygon is None:
            self._status[POLYGON] = SourceStatus(POLYGON, "disabled", polygon_disabled, polygon_how_to_enable)
        self._earnings = tuple(earnings)
        self._fetched_at: dict[str, datetime] = {}
        self._earnings_cache: dict[tuple[tuple[str, ...], date, date], tuple[float, EarningsAnswer]] = {}
        self._latest: dict[str, tuple[float, NewsItem | None]] = {}
        # per watched symbol, as of the last refresh: its earnings (None: no calendar answered) and newest item
        self._catalysts: dict[str, tuple[tuple[EarningsDate, ...] | None, NewsItem | None]] = {}
        self._breaking_minutes = DEFAULT_BREAKING_MINUTES
        self._shared: tuple[float, dict[str, SourceStatus]] | None = None

    # -- refresh -----------------------------------------------------------------------------------------------

    async def refresh(self) -> list[NewsItem]:
        """Fetch every source once, store what is new, announce new items on watched symbols; returns them."""
        tunables = await self._settings.get()
        watchlist = tunables.watchlist
        fetched: list[NewsItem] = []
        if self._polygon is not None:
            fetched += await self._from_polygon(self._polygon, watchlist)
        fetched += await self._from_feeds(tunables.news_feeds)
        tagged = [self._tag(item, watchlist) for item in fetched]
        watched, now = set(watchlist), self.clock()
        channels = self._alert_channels(tunables)
        async with self._db.uow() as session:
            stored = await NewsRepository(session).add(tagged)
            fresh = sorted((item for item in stored if watched.intersection(item.symbols)
                            and now - item.published_at <= ANNOUNCE_WITHIN), key=lambda i: i.published_at)
            await DeliveryRepository(session).add([outbox_row(item, channel, now)
                                                   for item in fresh for channel in channels])
        if stored:
            self._latest.clear()
        if fresh and channels and self.on_queued is not None:
            self.on_queued()
        await self._share_states(now)
        for item in fresh:
            await self._bus.publish(news_event(item))
        await self._note_catalysts(watchlist, tunables.news_breaking_minutes, now)
        return stored

    async def _share_states(self, now: datetime) -> None:
        """Store what this pass saw of each source for the processes that do not fetch (the API, the bots)."""
        asked = [replace(status, last_fetch_at=now) for name, status in sorted(self._status.items())
                 if name != POLYGON or self._polygon is not None]
        configured = [status for name, status in self._status.items() if name == POLYGON and self._polygon is None]
        try:
            async with self._db.uow() as session:
                await NewsSourceRepository(session).replace([*configured, *asked], now)
        except SQLAlchemyError as exc:  # e.g. a second fetcher wrote at the same moment: the next pass writes again
            log.warning("news.share_states_failed", error=str(exc))
        self._shared = None

    def _alert_channels(self, tunables: Tunables) -> tuple[str, ...]:
        """The channels the trader routed the `news` alert type to (the webhook's env filter on top)."""
        return tuple(channel for channel in NEWS_CHANNELS
                     if wanted(Channel(channel), NEWS_ALERT, tunables, self._webhook_types))

    async def _note_catalysts(self, watchlist: Sequence[str], minutes: int, now: datetime) -> None:
        """What `pick_factor` reads without I/O: one calendar request for the whole watchlist (cached), and each
        symbol's newest stored item; `minutes`, how recent news counts as breaking."""
        self._breaking_minutes = minutes
        if not watchlist:
            self._catalysts = {}
            return
        answer = await self.earnings(watchlist, *_plan_days(now))
        releases = answer.items if any(s.state == "ok" for s in answer.sources) else None
        self._catalysts = {symbol: (releases, await self.latest(symbol)) for symbol in watchlist}

    def pick_factor(self, symbol: str) -> Factor | None:
        """The `event_risk` confidence factor of a pick on `symbol` from the last refresh; None for a symbol the
        refresh does not follow (not on the watchlist), so nothing is claimed about it."""
        known = self._catalysts.get(symbol)
        if known is None:
            return None
        releases, latest = known
        return event_risk(symbol, releases, latest, now=datetime.now(UTC), minutes=self._breaking_minutes)

    @staticmethod
    def _tag(item: NewsItem, watchlist: Iterable[str]) -> NewsItem:
        mentioned = mentioned_symbols((item.title, item.summary), watchlist)
        return replace(item, symbols=tuple(sorted(set(item.symbols) | set(mentioned))))

    async def _from_polygon(self, polygon: NewsSource, watchlist: Sequence[str]) -> list[NewsItem]:
        items: list[NewsItem] = []
        for symbol in watchlist:
            started = datetime.now(UTC)
            try:
                items += await polygon.news_items(symbol, since=self._fetched_at.get(symbol), max_items=50)
            except CoreError as exc:  # entitlement, key or rate limit: the rest of the pass waits for the next
                self._status[POLYGON] = _status_of(POLYGON, exc)
                log.warning("news.polygon_failed", symbol=symbol, error=exc.message)
                return items
            self._fetched_at[symbol] = started - timedelta(minutes=5)  # overlap: late-indexed articles
            self._status[POLYGON] = SourceStatus(POLYGON, "ok", f"{len(watchlist)} watched symbols")
        return items

    async def _from_feeds(self, feeds: Sequence[NewsFeed]) -> list[NewsItem]:
        configured = {f"feed:{feed.label}" for feed in feeds}
        for name in [n for n in self._status if n.startswith("feed:") and n not in configured]:
            del self._status[name]
        results = await asyncio.gather(*(self._feeds.fetch(feed.url, feed.label) for feed in feeds),
                                       return_exceptions=True)
        items: list[NewsItem] = []
        for feed, result in zip(feeds, results, strict=True):
            name = f"feed:{feed.label}"
            if isinstance(result, CoreError):
                self._status[name] = _status_of(name, result)
                log.warning("news.feed_failed", feed=feed.label, error=result.message)
            elif isinstance(result, BaseException):
                raise result
            else:
                reason = "not modified" if result.not_modified else f"{len(result.items)} items"
                if result.skipped:
                    reason += f", {result.skipped} entries without a link, title or date skipped"
                if result.malformed:
                    reason += f", malformed feed: {result.malformed}"
                self._status[name] = SourceStatus(name, "ok", reason)
                items += result.items
        return items

    # -- queries -----------------------------------------------------------------------------------------------

    async def sources(self) -> tuple[SourceStatus, ...]:
        """Every source's state as the fetching process last stored it (re-read at most every LATEST_TTL_SEC),
        over what this process knows from its own configuration (a source it has not got at all)."""
        if self._shared is None or time.monotonic() - self._shared[0] >= LATEST_TTL_SEC:
            async with self._db.read() as session:
                stored = await NewsSourceRepository(session).all()
            self._shared = (time.monotonic(), {status.source: status for status in stored})
        merged = {**self._status, **self._shared[1]}
        return tuple(merged[name] for name in sorted(merged))

    async def page(self, *, symbols: Sequence[str] = (), since: datetime | None = None, limit: int = 50,
                   cursor: str | None = None) -> NewsPage:
        if not 1 <= limit <= 200:
            raise Invalid("limit must be 1-200", details=[{"field": "limit", "message": f"{limit} given"}])
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        after = decode_cursor(cursor) if cursor else None
        async with self._db.read() as session:
            items = await NewsRepository(session).page(symbols=symbols, since=since, after=after, limit=limit + 1)
        more = len(items) > limit
        items = items[:limit]
        return NewsPage(tuple(items), encode_cursor(items[-1]) if more else None,
                        await self.sources())

    async def latest(self, symbol: str) -> NewsItem | None:
        """The newest stored item on `symbol`, re-read at most every LATEST_TTL_SEC (plan checks run often)."""
        cached = self._latest.get(symbol)
        if cached is not None and time.monotonic() - cached[0] < LATEST_TTL_SEC:
            return cached[1]
        async with self._db.read() as session:
            item = await NewsRepository(session).latest(symbol)
        self._latest[symbol] = (time.monotonic(), item)
        return item

    async def earnings(self, symbols: Sequence[str], start: date, end: date) -> EarningsAnswer:
        """Releases of `symbols` in [start, end] from every calendar, cached for EARNINGS_TTL_SEC unless one
        failed (off and not-entitled calendars stay so for that long)."""
        if not symbols:
            raise Invalid("name at least one symbol", details=[{"field": "symbols", "message": "empty"}])
        if end < start or (end - start).days > MAX_EARNINGS_DAYS:
            raise Invalid(f"'to' must be on or after 'from', at most {MAX_EARNINGS_DAYS} days later",
                          details=[{"field": "to", "message": f"{start} to {end}"}])
        key = (tuple(sorted(symbols)), start, end)
        cached = self._earnings_cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < EARNINGS_TTL_SEC:
            return cached[1]
        answer = await self._ask_calendars(list(key[0]), start, end)
        if not any(s.state == "error" for s in answer.sources):  # a failing calendar is asked again next time
            self._earnings_cache[key] = (time.monotonic(), answer)
        return answer

    async def _ask_calendars(self, symbols: list[str], start: date, end: date) -> EarningsAnswer:
        found: dict[tuple[str, date], EarningsDate] = {}
        statuses = []
        for provider in self._earnings:
            if provider.source is None:
                statuses.append(SourceStatus(provider.name, "disabled", provider.disabled_reason,
                                             provider.how_to_enable))
                continue
            try:
                rows = await provider.source.earnings(symbols, start, end)
            except CoreError as exc:
                statuses.append(_status_of(provider.name, exc))
                continue
            rows = [r for r in rows if r.symbol in symbols and start <= r.date <= end]  # only what was asked
            statuses.append(SourceStatus(provider.name, "ok", f"{len(rows)} releases"))
            for row in rows:
                known = found.get((row.symbol, row.date))
                if known is None or (known.time is EarningsTime.UNKNOWN and row.time is not EarningsTime.UNKNOWN):
                    found[(row.symbol, row.date)] = row
        items = sorted(found.values(), key=lambda r: (r.date, r.symbol))
        return EarningsAnswer(tuple(items), tuple(statuses))

    # -- plans -------------------------------------------------------------------------------------------------

    async def plan_warnings(self, symbol: str, hold: Hold, minutes: int) -> tuple[list[Issue], list[str]]:
        """`earnings_in_hold` and `news_breaking` for a plan on `symbol` (news of the last `minutes`), and notes
        on what could not be checked. May ask the calendars: callers bound it with a timeout."""
        now = datetime.now(UTC)
        answer = await self.earnings([symbol], *_plan_days(now))
        return _plan_issues(symbol, hold, minutes, answer, await self.latest(symbol), now=now)

    def cached_plan_warnings(self, symbol: str, hold: Hold, minutes: int) -> tuple[list[Issue], list[str]] | None:
        """`plan_warnings` from what is cached, without any I/O; None when something has to be fetched."""
        now = datetime.now(UTC)
        answer = self._earnings_cache.get(((symbol,), *_plan_days(now)))
        latest = self._latest.get(symbol)
        clock = time.monotonic()
        if answer is None or latest is None or clock - answer[0] >= EARNINGS_TTL_SEC or \
                clock - latest[0] >= LATEST_TTL_SEC:
            return None
        return _plan_issues(symbol, hold, minutes, answer[1], latest[1], now=now)


def _plan_days(now: datetime) -> tuple[date, date]:
    today = now.astimezone(ET).date()
    return today, today + timedelta(days=PLAN_LOOKAHEAD_DAYS)


def _plan_issues(symbol: str, hold: Hold, minutes: int, answer: EarningsAnswer, latest: NewsItem | None, *,
                 now: datetime) -> tuple[list[Issue], list[str]]:
    notes = []
    if not any(s.state == "ok" for s in answer.sources):
        why = "; ".join(f"{s.source}: {s.state} ({s.reason})" for s in answer.sources) or "no calendar"
        notes.append(f"earnings dates not checked: {why}")
    found = (earnings_in_hold(symbol, answer.items, now=now, hold=hold),
             news_breaking(symbol, latest, now=now, minutes=minutes))
    return [issue for issue in found if issue is not None], notes
