"""What the coach's tools read from other features, typed by small Protocols; each service is optional and a
missing one says why and how to enable it (`OptionalServices.unavailable`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, runtime_checkable

from core.domain.journal import JournalDraft, JournalEntryView
from core.domain.market import Quote
from core.domain.options_express import ExpressPrefs, StockPlan
from core.domain.options_types import OptionChain
from core.domain.orders import BrokerOrder, OrderRequest, Position
from core.domain.risk import RiskState
from core.services.news import NewsPage
from core.services.options import ExpressResult
from core.services.orders import ProposeResult


class MarketReader(Protocol):
    async def quote(self, symbol: str) -> Quote: ...

    async def bars(self, symbol: str, *, timespan: str = "minute", limit: int = 100, multiplier: int = 1) -> Any: ...

    async def market_status(self) -> Any: ...

    def market_open(self) -> bool: ...


class NewsReader(Protocol):
    """NewsService: stored items newest first, with the state of every source."""

    async def page(self, *, symbols: Sequence[str] = (), since: datetime | None = None, limit: int = 50,
                   cursor: str | None = None) -> NewsPage: ...


class TunablesReader(Protocol):
    """SettingsService: the trader's risk limits and default R:R (read only: the coach never changes them)."""

    async def get(self) -> Any: ...


class JournalWriter(Protocol):
    async def add(self, draft: JournalDraft, actor: str | None = None) -> JournalEntryView: ...


@runtime_checkable
class RiskReader(Protocol):
    """RiskService: the latest state (re-evaluated when old) and the account it came from. Read only: there is
    no tool that changes a limit."""

    async def current(self) -> tuple[RiskState, Any]: ...


@runtime_checkable
class AccountReader(Protocol):
    """The broker account (the Broker port satisfies it)."""

    async def positions(self) -> list[Position]: ...

    async def orders(self) -> list[BrokerOrder]: ...


@runtime_checkable
class OrderProposer(Protocol):
    """OrderService's proposals: risk check, preview and a PENDING intent a human must confirm (or the denial).
    The coach never calls confirm."""

    async def propose(self, actor: str, request: OrderRequest, *, rationale: str | None = None,
                      source: str | None = None) -> ProposeResult: ...

    async def propose_cancel(self, actor: str, order_id: str, *, rationale: str | None = None,
                             source: str | None = None) -> ProposeResult: ...


class OptionsReader(Protocol):
    """OptionsService, read side (chains and express-plan drafts)."""

    async def chain(self, symbol: str, expiration: date | None = None) -> OptionChain: ...

    async def express(self, symbol: str, plan: StockPlan, prefs: ExpressPrefs, *, equity: object = None,
                      confidence: object = None) -> ExpressResult: ...


@runtime_checkable
class PicksReader(Protocol):
    async def picks(self, *, limit: int = 5) -> list[Any]: ...


Unavailable = tuple[str, str]  # (reason, how to enable)

DEFAULT_UNAVAILABLE: dict[str, Unavailable] = {
    "risk": ("the risk engine is not running in this process",
             "configure the broker (TRADIER_ACCESS_TOKEN, TRADIER_ACCOUNT_ID) and run the engine role"),
    "broker": ("the broker is not configured", "set TRADIER_ACCESS_TOKEN and TRADIER_ACCOUNT_ID and restart"),
    "orders": ("order drafting is not available",
               "set TRADIER_ACCESS_TOKEN and TRADIER_ACCOUNT_ID and restart (orders need the broker)"),
    "picks": ("picks are not available in this process", "set POLYGON_API_KEY and run the engine role"),
    "options_data": ("neither Tradier nor Polygon is configured",
                     "set TRADIER_ACCESS_TOKEN and TRADIER_ACCOUNT_ID, or POLYGON_API_KEY with an options plan"),
}


@dataclass(frozen=True, slots=True)
class OptionalServices:
    """What other features provide, each None when unavailable (then `unavailable` may say why and how)."""

    risk: RiskReader | None = None
    account: AccountReader | None = None
    orders: OrderProposer | None = None
    picks: PicksReader | None = None
    unavailable: Mapping[str, Unavailable] = field(default_factory=dict)
    options: OptionsReader | None = None
