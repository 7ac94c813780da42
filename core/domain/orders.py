"""Order and position values shared by the risk engine, the broker adapter and every front-end."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class OrderSide(StrEnum):
    BUY = "buy"
    SELL = "sell"
    BUY_TO_COVER = "buy_to_cover"
    SELL_SHORT = "sell_short"
    BUY_TO_OPEN = "buy_to_open"
    BUY_TO_CLOSE = "buy_to_close"
    SELL_TO_OPEN = "sell_to_open"
    SELL_TO_CLOSE = "sell_to_close"

    @property
    def is_buy(self) -> bool:
        return self.value.startswith("buy")

    @property
    def is_option(self) -> bool:
        return self.value.endswith(("_to_open", "_to_close"))


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    DEBIT = "debit"
    CREDIT = "credit"
    EVEN = "even"


class OrderDuration(StrEnum):
    DAY = "day"
    GTC = "gtc"
    PRE = "pre"
    POST = "post"


class OrderClass(StrEnum):
    EQUITY = "equity"
    OPTION = "option"
    MULTILEG = "multileg"
    OTOCO = "otoco"


@dataclass(frozen=True, slots=True)
class OrderLeg:
    option_symbol: str
    side: OrderSide
    quantity: int


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """Exactly what the user would send; its canonical form is hashed into the intent it becomes."""

    symbol: str
    side: OrderSide
    quantity: Decimal
    type: OrderType
    duration: OrderDuration = OrderDuration.DAY
    order_class: OrderClass = OrderClass.EQUITY
    price: Decimal | None = None
    stop: Decimal | None = None
    option_symbol: str | None = None
    legs: tuple[OrderLeg, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Position:
    symbol: str
    quantity: Decimal
    cost_basis: Decimal
    opened_at: datetime | None = None

    @property
    def is_long(self) -> bool:
        return self.quantity > 0

    @property
    def average_price(self) -> Decimal:
        if not self.quantity:
            return Decimal(0)
        return abs(self.cost_basis / self.quantity)


@dataclass(frozen=True, slots=True)
class Balances:
    equity: Decimal
    buying_power: Decimal
    cash: Decimal
    realized_pnl_today: Decimal = Decimal(0)
    unrealized_pnl: Decimal = Decimal(0)
    account_type: str = "margin"


@dataclass(frozen=True, slots=True)
class BrokerOrder:
    id: str
    symbol: str
    side: OrderSide
    quantity: Decimal
    type: OrderType
    status: str
    duration: OrderDuration | None = None
    price: Decimal | None = None
    stop: Decimal | None = None
    avg_fill_price: Decimal | None = None
    exec_quantity: Decimal = Decimal(0)
    tag: str | None = None
    option_symbol: str | None = None
    created_at: datetime | None = None
    reason: str | None = None
