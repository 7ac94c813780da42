"""What the market service tells the surfaces: headlines, the watched prices, and the market-data integration's
state. Typed values with the shapes REST, `status` events and `/diag/config` send.

A key Polygon left out of an article, and a status key that does not apply (a disabled integration has no feed),
is left out of the JSON (`UNSET`) rather than sent as null: null means "known to be empty".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import msgspec
from msgspec import UNSET, UnsetType


class Insight(msgspec.Struct, frozen=True, kw_only=True):
    """Polygon's per-ticker sentiment of an article."""

    sentiment: str | UnsetType | None = UNSET
    sentiment_reasoning: str | UnsetType | None = UNSET
    ticker: str | UnsetType | None = UNSET


class Headline(msgspec.Struct, frozen=True, kw_only=True):
    """One article from Polygon's news, its fields as Polygon names them; `publisher` is the publisher's name."""

    id: str | UnsetType | None = UNSET
    title: str | UnsetType | None = UNSET
    author: str | UnsetType | None = UNSET
    published_utc: str | UnsetType | None = UNSET
    article_url: str | UnsetType | None = UNSET
    tickers: tuple[str, ...] | UnsetType | None = UNSET
    description: str | UnsetType | None = UNSET
    keywords: tuple[str, ...] | UnsetType | None = UNSET
    insights: tuple[Insight, ...] | UnsetType | None = UNSET
    image_url: str | UnsetType | None = UNSET
    publisher: str | None = None


@dataclass(frozen=True, slots=True)
class Freshness:
    """A watched symbol's data age; ``no_data`` until anything arrived for it."""

    symbol: str
    age_sec: float | None
    status: Literal["fresh", "stale", "no_data"]


@dataclass(frozen=True, slots=True)
class WatchedPrice:
    """A watched symbol's latest price (the `price` event's text), how old its data is and whether that is stale.
    Every price is null until a trade arrived."""

    symbol: str
    last: str | None
    bid: str | None
    ask: str | None
    change: str | None
    change_pct: str | None
    as_of: str | None
    age_s: float | None
    stale: bool


class Percentiles(msgspec.Struct, frozen=True):
    p50: float
    p95: float
    p99: float


class StreamStats(msgspec.Struct, frozen=True, kw_only=True):
    """The price stream's counters; a lag is null until two samples arrived."""

    symbols: int
    published: int
    duplicate_bars: int
    feed_lag_ms: Percentiles | None
    engine_lag_ms: Percentiles | None
    stale: tuple[str, ...]


class UnverifiedGap(msgspec.Struct, frozen=True, kw_only=True):
    """An outage whose back-fill failed: a level crossed between `from` and `to` may not have fired."""

    symbol: str
    from_: str = msgspec.field(name="from")
    to: str
    error: str


class FeedStatus(msgspec.Struct, frozen=True, kw_only=True):
    """The live feed's state and reason; the connection details only where a streaming feed runs."""

    state: str
    reason: str
    since: str | UnsetType = UNSET
    retry_in_s: float | UnsetType | None = UNSET
    url: str | UnsetType = UNSET
    symbols: tuple[str, ...] | UnsetType = UNSET
    channels: int | UnsetType = UNSET
    queue_depth: int | UnsetType = UNSET
    last_message_age_s: float | UnsetType = UNSET
    unverified_gaps: tuple[UnverifiedGap, ...] | UnsetType = UNSET
    counters: dict[str, int] | UnsetType = UNSET


REST_ONLY = FeedStatus(state="rest_only", reason="")


class MarketDataStatus(msgspec.Struct, frozen=True, kw_only=True):
    """The market-data integration: disabled (with how to enable it), or enabled with the feed's state, the
    market session (null until first read) and the stream's counters."""

    enabled: bool
    state: str
    reason: str
    how_to_enable: str | UnsetType = UNSET
    market: str | UnsetType | None = UNSET
    feed: FeedStatus | UnsetType = UNSET
    symbols: int | UnsetType = UNSET
    published: int | UnsetType = UNSET
    duplicate_bars: int | UnsetType = UNSET
    feed_lag_ms: Percentiles | UnsetType | None = UNSET
    engine_lag_ms: Percentiles | UnsetType | None = UNSET
    stale: tuple[str, ...] | UnsetType = UNSET

    @classmethod
    def disabled(cls, reason: str, how_to_enable: str) -> MarketDataStatus:
        return cls(enabled=False, state="disabled", reason=reason, how_to_enable=how_to_enable)

    @classmethod
    def running(cls, feed: FeedStatus, market: str | None, stats: StreamStats) -> MarketDataStatus:
        return cls(enabled=True, state=feed.state, reason=feed.reason, market=market,
                   feed=feed, symbols=stats.symbols, published=stats.published,
                   duplicate_bars=stats.duplicate_bars, feed_lag_ms=stats.feed_lag_ms,
                   engine_lag_ms=stats.engine_lag_ms, stale=stats.stale)
