"""The small protocols adapters and engines implement. Services depend on these, never on a vendor library or an
engine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, Protocol, runtime_checkable

from core.domain.alerts import Alert
from core.domain.coach import ChatMessage, LLMReply, ToolSpec
from core.domain.deliveries import Delivery
from core.domain.events import Event, EventType
from core.domain.market import Bar, MarketHoliday, MarketStatus, OptionContract, Quote, Trade
from core.domain.market_views import FeedStatus, Headline, StreamStats
from core.domain.news import EarningsDate, FeedFetch, NewsItem
from core.domain.orders import (
    Balances,
    BrokerOrder,
    OrderAck,
    OrderDuration,
    OrderPreview,
    OrderRequest,
    OrderType,
    Position,
)
from core.domain.picks_scanner import Scanner
from core.domain.picks_universe import Universe
from core.domain.prices import SymbolState, TickHook


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC now."""
        ...

    def monotonic(self) -> float: ...


class Subscription(Protocol):
    """One subscriber's view of the bus: an async iterator of events that ends when closed.

    ``depth`` is the number of queued events, ``dropped`` the price events lost to drop-oldest, ``name`` the
    label used for queue-depth metrics.
    """

    @property
    def name(self) -> str: ...

    def __aiter__(self) -> AsyncIterator[Event]: ...

    async def close(self) -> None: ...

    @property
    def depth(self) -> int: ...

    @property
    def dropped(self) -> int: ...


@runtime_checkable
class EventBus(Protocol):
    """Typed events to bounded per-subscriber queues (price: drop-oldest; other types: backpressure)."""

    async def publish(self, event: Event) -> None: ...

    def subscribe(self, types: Sequence[EventType] | None = None, *, maxsize: int = 1024,
                  name: str | None = None) -> Subscription: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def queue_depths(self) -> dict[str, int]: ...


class MarketData(Protocol):
    """Request/response market data (Polygon REST). Raises core.errors: NotFound (unknown symbol),
    IntegrationDisabled (key rejected), ExternalPermanent (plan lacks the data), ExternalTransient (429/5xx)."""

    async def quote(self, symbol: str) -> Quote: ...

    async def snapshots(self, symbols: list[str]) -> list[Quote]: ...

    async def bars(self, symbol: str, *, multiplier: int, timespan: str, start: date | int,
                   end: date | int, limit: int = 5000, sort: Literal["asc", "desc"] = "asc",
                   adjusted: bool = True) -> list[Bar]: ...

    async def previous_close(self, symbol: str) -> Bar | None: ...

    async def last_trade(self, symbol: str) -> Trade: ...

    async def last_quote(self, symbol: str) -> Quote: ...

    async def movers(self, direction: Literal["gainers", "losers"]) -> list[Quote]: ...

    async def market_status(self) -> MarketStatus: ...

    async def upcoming_holidays(self) -> list[MarketHoliday]: ...

    async def news(self, symbol: str | None, *, limit: int = 10) -> list[Headline]: ...

    async def options_chain(self, underlying: str, *, expiration: date | None = None,
                            contract_type: Literal["call", "put"] | None = None,
                            max_contracts: int = 1000) -> list[OptionContract]: ...


class MarketFeed(Protocol):
    """Streaming market data (Polygon WebSocket). Subscriptions are diffed; the feed owns its reconnects and
    delivers ticks to the `FeedSink` it was built with. `status` is JSON-ready: state, reason, counters."""

    async def run(self) -> None: ...

    async def set_symbols(self, symbols: set[str]) -> None: ...

    @property
    def status(self) -> FeedStatus: ...


class Broker(Protocol):
    """A brokerage account (Tradier). Reads retry inside the adapter; place/modify/cancel are sent exactly once
    and raise ``OrderOutcomeUnknown`` when the answer is lost: resolve it with ``find_order_by_tag``."""

    async def balances(self) -> Balances: ...

    async def positions(self) -> list[Position]: ...

    async def orders(self) -> list[BrokerOrder]: ...

    async def order(self, order_id: str) -> BrokerOrder: ...

    async def find_order_by_tag(self, tag: str) -> BrokerOrder | None: ...

    async def preview(self, order: OrderRequest) -> OrderPreview: ...

    async def place(self, order: OrderRequest, *, tag: str) -> OrderAck: ...

    async def modify(self, order_id: str, *, type: OrderType | None = None, duration: OrderDuration | None = None,
                     price: Decimal | None = None, stop: Decimal | None = None) -> OrderAck: ...

    async def cancel(self, order_id: str) -> OrderAck: ...

    async def quote_price(self, symbol: str) -> Decimal | None: ...


class LLM(Protocol):
    """A chat model behind one adapter (OpenAI-compatible native tool calls, or chat-data's prompted JSON).

    ``timeout`` is the wall-clock budget of the whole call, retries included (None: the adapter's default);
    when it runs out the call raises ExternalTransient. Tool call arguments in a reply are untrusted input.
    """

    async def complete(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] | None = None, *,
                       timeout: float | None = None) -> LLMReply: ...

    def stream(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] | None = None, *,
               timeout: float | None = None) -> AsyncIterator[str | LLMReply]:
        """Text deltas as they arrive, then exactly one final LLMReply (content and tool calls assembled)."""
        ...

    async def aclose(self) -> None: ...


class Notifier(Protocol):
    """One alert delivery channel (``ws``, ``discord_webhook``, ``discord``, ``slack``), plugged in with
    ``runtime.delivery.register(notifier)``; the delivery engine then runs a worker for its outbox rows.

    ``deliver`` gets a `Delivery`: the stored `alert` event (``level``, ``msg``, ``meta`` with the action chips)
    with ``trigger_id``, ``alert_id``, ``triggered_at`` and ``attempt``; a news item (routed `news` alert type)
    comes as ``meta.kind == "news"`` with its stored title/source/url/time and ``news_id`` instead of the
    trigger's ids (`core.domain.news.news_alert`). Returning means delivered.
    Raise ``ExternalTransient`` (with ``retry_after`` seconds when the vendor said so) to be retried with
    backoff, any other ``CoreError`` to mark the row failed. A row may be delivered again after a crash
    between sending and recording it (at-least-once): use ``Delivery.key`` as the idempotency key if you can.
    """

    @property
    def channel(self) -> str: ...

    async def deliver(self, delivery: Delivery) -> None: ...


class NewsSource(Protocol):
    """Vendor news (Polygon): newest first, NotEntitled when the plan lacks it."""

    async def news_items(self, symbol: str | None, *, since: datetime | None = None,
                         max_items: int = 100) -> list[NewsItem]: ...


class EarningsSource(Protocol):
    """One earnings calendar; NotEntitled when the plan lacks it."""

    async def earnings(self, symbols: list[str], start: date, end: date) -> list[EarningsDate]: ...


class FeedReader(Protocol):
    """RSS/Atom with conditional requests; ExternalTransient when a feed is unreachable."""

    async def fetch(self, url: str, label: str) -> FeedFetch: ...


class PriceStream(Protocol):
    """The live per-symbol market state the market service steers and reads (core.engines.stream)."""

    market_open: bool | None

    @property
    def symbols(self) -> set[str]: ...

    async def run(self) -> None: ...

    def watch(self, symbols: set[str]) -> set[str]: ...

    def set_prev_close(self, symbol: str, close: Decimal) -> None: ...

    def add_tick_hook(self, hook: TickHook) -> None: ...

    def remove_tick_hook(self, hook: TickHook) -> None: ...

    def is_market_hours(self) -> bool: ...

    def state(self, symbol: str) -> SymbolState | None: ...

    def is_stale(self, state: SymbolState, now_ms: int | None = None) -> bool: ...

    def quote(self, symbol: str) -> Quote | None: ...

    def stats(self) -> StreamStats: ...


class LivePicks(Protocol):
    """The picks engine's live scanner, which the picks service reads when it runs in this process."""

    scanner: Scanner
    universe: Universe

    def clock(self) -> int: ...


class LiveAlerts(Protocol):
    """The alert engine's index, which the alert service keeps in step with every write (core.engines.alerts)."""

    write_lock: asyncio.Lock

    async def sync_watch(self, *, force: bool = False) -> None: ...

    def current(self, alert_id: str) -> Alert | None: ...

    def apply(self, alert: Alert) -> None: ...

    def forget(self, alert_id: str) -> None: ...
