"""Tunables a trader edits at run time (risk limits, R:R, watchlist, alert routing), persisted in app_settings."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.db.repositories import SettingsRepository
from core.db.session import Database
from core.domain.alerts import Channel
from core.domain.symbols import normalize_symbol
from core.errors import Invalid
from core.services.validation import invalid_from

ALERT_CHANNELS = ("ws", "discord", "slack", "discord_webhook")
ALERT_TYPES = ("crossed", "approaching", "risk", "expired", "info")
# Opt-in per channel (off until a trader routes it): new news items on watched symbols. /ws always carries `news`
# events, so only the outbound channels route it.
NEWS_ALERT = "news"
NEWS_CHANNELS = ("discord", "slack", "discord_webhook")
NEWS_ROUTING_NOTE = "/ws always carries news"
# Reads are served from memory. An update through this service replaces the cached copy at once; the TTL only
# bounds how long an edit made by another process (docker-compose runs api/engine/bots apart) takes to show.
CACHE_TTL_SEC = 1.0


class RiskLimitsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_daily_loss_usd: Decimal = Field(default=Decimal(500), gt=0, le=10_000_000)
    max_daily_loss_pct: Decimal = Field(default=Decimal(2), gt=0, le=100)
    max_open_positions: int = Field(default=5, ge=1, le=500)
    max_position_pct: Decimal = Field(default=Decimal(25), gt=0, le=100)
    max_trades_per_day: int = Field(default=10, ge=1, le=1000)
    max_order_notional: Decimal = Field(default=Decimal(25_000), gt=0, le=100_000_000)
    max_consecutive_losses: int = Field(default=3, ge=1, le=100)
    cooldown_minutes: int = Field(default=30, ge=0, le=1440)
    risk_per_trade_pct: Decimal = Field(default=Decimal(1), gt=0, le=10)


class NewsFeed(BaseModel):
    """A curated RSS/Atom feed: any http(s) URL, loopback included (a trader's own local feed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str = Field(min_length=1, max_length=40, pattern=r"^[\w .&()-]+$")
    url: str = Field(min_length=8, max_length=2000)

    @field_validator("url")
    @classmethod
    def _http(cls, url: str) -> str:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("a feed url must be an http:// or https:// address with a host")
        return url.strip()


class PicksUniverseSettings(BaseModel):
    """What the picks scanner looks at besides the watchlist: the day's movers that pass these filters."""

    model_config = ConfigDict(extra="forbid")

    min_price: Decimal = Field(default=Decimal(5), ge=0, le=100_000)
    min_avg_dollar_volume: Decimal = Field(default=Decimal(20_000_000), ge=0, le=1_000_000_000_000)
    min_relative_volume: Decimal = Field(default=Decimal("1.0"), ge=0, le=100)
    max_symbols: int = Field(default=100, ge=1, le=500)
    include_movers: bool = True


class Tunables(BaseModel):
    """Every editable setting with its default; unknown keys are refused, partial updates are merged."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    watchlist: list[str] = Field(default_factory=lambda: ["SPY", "QQQ"], max_length=200)
    risk: RiskLimitsSettings = Field(default_factory=RiskLimitsSettings)
    default_rr: Decimal = Field(default=Decimal(2), gt=0, le=20)
    picks_universe: PicksUniverseSettings = Field(default_factory=PicksUniverseSettings)
    alert_types: dict[str, list[str]] = Field(
        default_factory=lambda: {channel: list(ALERT_TYPES) for channel in ALERT_CHANNELS})
    news_feeds: list[NewsFeed] = Field(default_factory=list, max_length=50)
    news_breaking_minutes: int = Field(default=30, ge=1, le=1440)

    @field_validator("news_feeds")
    @classmethod
    def _unique_labels(cls, feeds: list[NewsFeed]) -> list[NewsFeed]:
        labels = [feed.label for feed in feeds]
        if len(set(labels)) != len(labels):
            raise ValueError("each news feed needs its own label")
        return feeds

    @field_validator("watchlist")
    @classmethod
    def _symbols(cls, symbols: list[str]) -> list[str]:
        try:
            cleaned = [normalize_symbol(symbol) for symbol in symbols]
        except Invalid as exc:
            raise ValueError(exc.message) from exc
        return list(dict.fromkeys(cleaned))

    @field_validator("alert_types")
    @classmethod
    def _routing(cls, routing: dict[str, list[str]]) -> dict[str, list[str]]:
        for channel, kinds in routing.items():
            if channel not in ALERT_CHANNELS:
                raise ValueError(f"unknown channel '{channel}'; channels are {', '.join(ALERT_CHANNELS)}")
            unknown = sorted(set(kinds) - {*ALERT_TYPES, NEWS_ALERT})
            if unknown:
                raise ValueError(f"unknown alert types {unknown}; types are {', '.join(ALERT_TYPES)}, {NEWS_ALERT}")
            if NEWS_ALERT in kinds and channel not in NEWS_CHANNELS:
                raise ValueError(f"'{NEWS_ALERT}' routes to {', '.join(NEWS_CHANNELS)}; {NEWS_ROUTING_NOTE}")
        return routing


Listener = Callable[[Tunables, set[str]], Awaitable[None]]


class SettingsService:
    """Reads merge the stored overrides over the defaults; writes validate the whole result first.

    This service is the only writer of app_settings, so reads come from an in-memory copy (see CACHE_TTL_SEC)
    instead of a query per request. The returned `Tunables` is shared: treat it as read-only.
    """

    def __init__(self, db: Database, *, initial_watchlist: list[str] | None = None,
                 cache_ttl_sec: float = CACHE_TTL_SEC) -> None:
        self.db = db
        self._defaults: dict[str, Any] = {}
        if initial_watchlist is not None:
            self._defaults["watchlist"] = initial_watchlist
        self._listeners: list[Listener] = []
        self._ttl = cache_ttl_sec
        self._cached: Tunables | None = None
        self._cached_at = 0.0
        self._writes = 0  # bumped by every update, so a read that raced one never caches the older value
        self._dumped: tuple[Tunables, dict[str, Any]] | None = None
        self._refresh = asyncio.Lock()

    def on_change(self, listener: Listener) -> None:
        """Call `listener(new, changed_keys)` after every committed update (e.g. the feed resubscribes)."""
        self._listeners.append(listener)

    async def get(self) -> Tunables:
        cached = self._cached
        if cached is not None and time.monotonic() - self._cached_at < self._ttl:
            return cached
        async with self._refresh:  # concurrent callers share one read
            if self._cached is not None and time.monotonic() - self._cached_at < self._ttl:
                return self._cached
            writes = self._writes
            async with self.db.read() as session:
                fresh = self._merge(await SettingsRepository(session).all())
            if writes == self._writes:
                self._remember(fresh)
            return fresh

    async def get_dumped(self) -> dict[str, Any]:
        """`get()` as JSON-ready data, dumped once per value rather than per read (shared: don't mutate it)."""
        tunables = await self.get()
        dumped = self._dumped
        if dumped is None or dumped[0] is not tunables:
            dumped = self._dumped = (tunables, tunables.model_dump(mode="json"))
        return dumped[1]

    def _remember(self, tunables: Tunables) -> None:
        self._cached, self._cached_at = tunables, time.monotonic()

    async def update(self, patch: dict[str, Any], actor: str | None = None) -> Tunables:
        if not isinstance(patch, dict) or not patch:
            raise Invalid("send a JSON object with at least one setting to change",
                          details=[{"field": "body", "message": "expected a non-empty object"}])
        async with self.db.uow() as session:
            repo = SettingsRepository(session)
            current = self._merge(await repo.all()).model_dump(mode="json")
            merged = {**current, **{key: self._merge_section(current.get(key), value)
                                    for key, value in patch.items()}}
            updated = self._validate(merged)
            dumped = updated.model_dump(mode="json")
            changed = {key for key in patch if dumped.get(key) != current.get(key)}
            for key in changed:
                await repo.put(key, dumped[key], actor)
        self._writes += 1
        self._remember(updated)
        for listener in self._listeners:
            await listener(updated, changed)
        return updated

    def _merge(self, stored: dict[str, Any]) -> Tunables:
        return self._validate({**self._defaults, **stored})

    @staticmethod
    def _merge_section(current: Any, value: Any) -> Any:
        if isinstance(current, dict) and isinstance(value, dict):
            return {**current, **value}
        return value

    @staticmethod
    def _validate(data: dict[str, Any]) -> Tunables:
        try:
            return Tunables.model_validate(data)
        except ValidationError as exc:
            raise invalid_from(exc, "settings") from exc


def wanted(channel: Channel, kind: str, tunables: Tunables, webhook_types: Sequence[str]) -> bool:
    """Whether ``channel`` takes fires of ``kind`` (per-channel routing; the webhook's env filter on top)."""
    if kind not in tunables.alert_types.get(channel.value, list(ALERT_TYPES)):
        return False
    return not (channel is Channel.DISCORD_WEBHOOK and webhook_types and kind not in webhook_types)
