"""The small protocols adapters implement. Services and engines depend on these, never on a vendor library."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from core.domain.events import Event, EventType
from core.domain.market import Bar, MarketStatus, Quote
from core.domain.orders import Balances, BrokerOrder, OrderRequest, Position


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC now."""
        ...

    def monotonic(self) -> float: ...


class Subscription(Protocol):
    """One subscriber's view of the bus: an async iterator of events that ends when closed."""

    def __aiter__(self) -> AsyncIterator[Event]: ...

    async def close(self) -> None: ...

    @property
    def depth(self) -> int: ...

    @property
    def dropped(self) -> int: ...


@runtime_checkable
class EventBus(Protocol):
    async def publish(self, event: Event) -> None: ...

    def subscribe(self, types: Sequence[EventType] | None = None, *, maxsize: int = 1024) -> Subscription: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def queue_depths(self) -> dict[str, int]: ...


class MarketData(Protocol):
    """Request/response market data (Polygon REST)."""

    async def quote(self, symbol: str) -> Quote: ...

    async def bars(self, symbol: str, *, multiplier: int, timespan: str, start: date | int,
                   end: date | int, limit: int = 5000) -> list[Bar]: ...

    async def market_status(self) -> MarketStatus: ...

    async def news(self, symbol: str | None, *, limit: int = 10) -> list[dict[str, Any]]: ...


class MarketFeed(Protocol):
    """Streaming market data (Polygon WebSocket). Subscriptions are diffed; the feed owns its reconnects."""

    async def run(self) -> None: ...

    async def set_symbols(self, symbols: set[str]) -> None: ...

    @property
    def status(self) -> dict[str, Any]: ...


class Broker(Protocol):
    async def balances(self) -> Balances: ...

    async def positions(self) -> list[Position]: ...

    async def orders(self) -> list[BrokerOrder]: ...

    async def preview(self, order: OrderRequest) -> dict[str, Any]: ...

    async def place(self, order: OrderRequest, *, tag: str) -> BrokerOrder: ...

    async def cancel(self, order_id: str) -> BrokerOrder: ...

    async def quote_price(self, symbol: str) -> Decimal | None: ...


class LLM(Protocol):
    async def complete(self, messages: list[dict[str, Any]], *,
                       tools: list[dict[str, Any]] | None = None) -> dict[str, Any]: ...


class Notifier(Protocol):
    """One alert delivery channel (Discord webhook, Discord bot, Slack app)."""

    channel: str

    async def deliver(self, payload: dict[str, Any]) -> None: ...
