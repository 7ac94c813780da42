"""Order and position values shared by the risk engine, the broker adapter and every front-end."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from typing import Any, Literal

from core.domain.numbers import decimal_or_none
from core.domain.symbols import normalize_symbol
from core.errors import Invalid

TradingMode = Literal["LIVE", "PAPER"]
"""Where orders go: LIVE (real money) or PAPER (the broker's sandbox); derived in `TradierSettings.trading_mode`."""


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
    OTO = "oto"
    OTOCO = "otoco"

    @property
    def is_bracket(self) -> bool:
        """An entry that triggers its exits: `oto` (entry + stop-loss) or `otoco` (entry + stop-loss + target)."""
        return self in (OrderClass.OTO, OrderClass.OTOCO)


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
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, in the REST order shape (``class``; Decimals as strings; unset optional fields left out)."""
        body: dict[str, Any] = {"symbol": self.symbol, "side": self.side.value, "quantity": str(self.quantity),
                                "type": self.type.value, "duration": self.duration.value,
                                "class": self.order_class.value}
        for name in ("price", "stop", "take_profit", "stop_loss"):
            if (value := getattr(self, name)) is not None:
                body[name] = str(value)
        if self.option_symbol is not None:
            body["option_symbol"] = self.option_symbol
        if self.legs:
            body["legs"] = [{"option_symbol": leg.option_symbol, "side": leg.side.value, "quantity": leg.quantity}
                            for leg in self.legs]
        return body


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
    order_class: str | None = None
    remaining_quantity: Decimal | None = None
    updated_at: datetime | None = None
    legs: tuple[BrokerOrder, ...] = ()

    @property
    def is_working(self) -> bool:
        """Still able to fill (or be cancelled): the order tracker keeps polling these."""
        return self.status in WORKING_STATUSES


WORKING_STATUSES = frozenset({"open", "partially_filled", "pending"})

_CLOSING = {
    OrderSide.BUY: OrderSide.SELL,
    OrderSide.SELL_SHORT: OrderSide.BUY_TO_COVER,
    OrderSide.BUY_TO_OPEN: OrderSide.SELL_TO_CLOSE,
    OrderSide.SELL_TO_OPEN: OrderSide.BUY_TO_CLOSE,
}
_EQUITY_SIDES = frozenset({OrderSide.BUY, OrderSide.SELL, OrderSide.BUY_TO_COVER, OrderSide.SELL_SHORT})
_SINGLE_TYPES = frozenset({OrderType.MARKET, OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT})
_MULTILEG_TYPES = frozenset({OrderType.MARKET, OrderType.DEBIT, OrderType.CREDIT, OrderType.EVEN})
_OCC = re.compile(r"^[A-Z]{1,6}\d{6}[CP]\d{8}$")
OPTION_MULTIPLIER = 100
MAX_PRICE = Decimal(10_000_000)
PENNY = Decimal("0.01")
SUB_PENNY = Decimal("0.0001")


def contract_multiplier(symbol: str) -> int:
    """Shares one unit of `symbol` stands for: 100 for an OCC option contract, 1 for a share."""
    return OPTION_MULTIPLIER if _OCC.match(symbol) else 1


def closing_side(side: OrderSide) -> OrderSide:
    """The side that exits a position opened with `side` (buy -> sell, buy_to_open -> sell_to_close, ...)."""
    try:
        return _CLOSING[side]
    except KeyError:
        raise Invalid(f"'{side}' closes a position; it has no closing side", details={"field": "side"}) from None


@dataclass(frozen=True, slots=True)
class PreviewView:
    """What the broker says an order would cost and do to buying power, before it is placed: what every surface
    shows with a proposal."""

    ok: bool
    cost: Decimal | None
    commission: Decimal | None
    fees: Decimal | None
    order_cost: Decimal | None
    margin_change: Decimal | None
    buying_power_effect: Decimal | None = None
    day_trades: int | None = None
    warnings: tuple[str, ...] = ()

    @property
    def estimated_cost(self) -> Decimal | None:
        """The order's total cost as the broker estimates it (`order_cost`), else its `cost`."""
        return self.order_cost if self.order_cost is not None else self.cost

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PreviewView:
        """A preview as stored with an intent."""
        day_trades = data.get("day_trades")
        return cls(bool(data.get("ok")), decimal_or_none(data.get("cost")), decimal_or_none(data.get("commission")),
                   decimal_or_none(data.get("fees")), decimal_or_none(data.get("order_cost")),
                   decimal_or_none(data.get("margin_change")), decimal_or_none(data.get("buying_power_effect")),
                   day_trades if isinstance(day_trades, int) else None,
                   tuple(str(w) for w in data.get("warnings") or ()))


@dataclass(frozen=True, slots=True)
class OrderPreview(PreviewView):
    """The broker's preview (Tradier `preview=true`) with its raw fields, which stay in the adapter's domain."""

    raw: dict[str, str] = field(default_factory=dict)

    def view(self) -> PreviewView:
        return PreviewView(self.ok, self.cost, self.commission, self.fees, self.order_cost, self.margin_change,
                           self.buying_power_effect, self.day_trades, tuple(self.warnings))


@dataclass(frozen=True, slots=True)
class BrokerAccount:
    account_number: str
    type: str
    status: str | None = None
    classification: str | None = None
    option_level: int | None = None
    day_trader: bool = False


@dataclass(frozen=True, slots=True)
class BrokerProfile:
    id: str
    name: str
    accounts: tuple[BrokerAccount, ...] = ()


def _fail(message: str, field_name: str) -> Invalid:
    return Invalid(message, details={"field": field_name})


def _check_quantity(quantity: Decimal, field_name: str = "quantity") -> None:
    if quantity <= 0 or quantity != quantity.to_integral_value():
        raise _fail(f"{field_name} must be a whole number above zero, got {quantity}", field_name)


def tick_size(price: Decimal, *, option: bool = False) -> Decimal:
    """The smallest price step: $0.01 at or above $1 and $0.0001 below for shares (SEC Rule 612); $0.01 for
    option premiums and net prices at any level (the broker may still ask for 0.05 on some option classes)."""
    return PENNY if option or price >= 1 else SUB_PENNY


def _check_price(value: Decimal, name: str, *, option: bool) -> None:
    if not value.is_finite() or value <= 0:
        raise _fail(f"{name} must be a number above zero, got {value}", name)
    if value > MAX_PRICE:
        raise _fail(f"{name} {value} is not a plausible price (at most {MAX_PRICE})", name)
    tick = tick_size(value, option=option)
    if value % tick:
        example = value.quantize(tick, ROUND_DOWN)
        raise _fail(f"{name} {value} is not a multiple of the ${tick} tick for that price"
                    f"{' (options)' if option else ''}, e.g. {example}", name)


def _check_prices(order: OrderRequest) -> None:
    option = order.option_symbol is not None or order.order_class is OrderClass.MULTILEG
    for name in ("price", "stop", "take_profit", "stop_loss"):
        value = getattr(order, name)
        if value is not None:
            _check_price(value, name, option=option)
    if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.DEBIT, OrderType.CREDIT) \
            and order.price is None:
        raise _fail(f"a {order.type} order needs a price", "price")
    if order.type in (OrderType.STOP, OrderType.STOP_LIMIT) and order.stop is None:
        raise _fail(f"a {order.type} order needs a stop price", "stop")


def _check_single(order: OrderRequest) -> None:
    if order.type not in _SINGLE_TYPES:
        raise _fail(f"type {order.type} is for multileg orders; use market, limit, stop or stop_limit", "type")
    if order.option_symbol is None:
        if order.side not in _EQUITY_SIDES:
            raise _fail(f"side {order.side} is an option side; an equity order uses buy, sell, "
                        "buy_to_cover or sell_short", "side")
    else:
        if not order.side.is_option:
            raise _fail(f"side {order.side} is an equity side; an option order uses buy_to_open, "
                        "buy_to_close, sell_to_open or sell_to_close", "side")
        if not _OCC.match(order.option_symbol):
            raise _fail(f"'{order.option_symbol}' is not an OCC option symbol", "option_symbol")


def _check_legs(order: OrderRequest) -> None:
    if not 2 <= len(order.legs) <= 4:
        raise _fail("a multileg order has 2 to 4 option legs", "legs")
    if order.type not in _MULTILEG_TYPES:
        raise _fail(f"a multileg order is market, debit, credit or even, not {order.type}", "type")
    for leg in order.legs:
        if not leg.side.is_option or not _OCC.match(leg.option_symbol):
            raise _fail(f"leg {leg.option_symbol} needs an OCC symbol and an option side", "legs")
        _check_quantity(Decimal(leg.quantity), "legs.quantity")


def validate_order_request(order: OrderRequest) -> None:
    """Refuse what the broker would refuse, with the rule that was broken (raises Invalid)."""
    if normalize_symbol(order.symbol) != order.symbol or order.symbol.startswith("O:"):
        raise _fail(f"symbol '{order.symbol}' must be upper-case, e.g. {order.symbol.strip().upper()}", "symbol")
    _check_quantity(order.quantity)
    _check_prices(order)
    if order.order_class is OrderClass.MULTILEG:
        _check_legs(order)
        return
    if order.legs:
        raise _fail(f"legs are only for multileg orders, not {order.order_class}", "legs")
    _check_single(order)
    if order.order_class is OrderClass.OPTION and order.option_symbol is None:
        raise _fail("an option order needs option_symbol (OCC)", "option_symbol")
    if order.order_class is OrderClass.EQUITY and order.option_symbol is not None:
        raise _fail("an equity order has no option_symbol; use class option", "option_symbol")
    if order.order_class.is_bracket:
        _check_bracket(order)
    elif order.take_profit is not None or order.stop_loss is not None:
        raise _fail(f"take_profit and stop_loss belong to bracket orders (oto, otoco), not {order.order_class}",
                    "stop_loss")


def bracket_entry(order: OrderRequest) -> Decimal | None:
    """The price a bracket's entry leg is meant to fill at: its limit price, else its stop trigger."""
    return order.price if order.price is not None else order.stop


def _check_bracket(order: OrderRequest) -> None:
    """The broker's bracket rules (the entry leg is limit, stop or stop_limit; otoco has a target, oto has none)
    plus the one that makes it a bracket: the stop-loss on the losing side of the entry, the target beyond it."""
    if order.order_class is OrderClass.OTOCO and (order.take_profit is None or order.stop_loss is None):
        raise _fail("a bracket (otoco) order needs take_profit and stop_loss", "take_profit")
    if order.order_class is OrderClass.OTO:
        if order.stop_loss is None:
            raise _fail("an oto order needs stop_loss (the stop its entry triggers)", "stop_loss")
        if order.take_profit is not None:
            raise _fail("an oto order has no take_profit; with a target use class otoco", "take_profit")
    closing_side(order.side)
    if order.type not in (OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT):
        raise _fail(f"a bracket's entry is a limit, stop or stop_limit order, not {order.type}", "type")
    stop_loss = order.stop_loss
    assert stop_loss is not None
    if order.take_profit is not None and (order.take_profit > stop_loss) != order.side.is_buy:
        raise _fail("take_profit must be on the profit side of stop_loss (above it for a buy, below for a sell)",
                    "take_profit")
    entry = bracket_entry(order)
    if entry is not None and (stop_loss >= entry if order.side.is_buy else stop_loss <= entry):
        raise _fail(f"stop_loss {stop_loss} must be {'below' if order.side.is_buy else 'above'} the entry {entry}",
                    "stop_loss")


@dataclass(frozen=True, slots=True)
class OrderAck:
    """The broker took a place/modify/cancel request; `Broker.order(id)` gives the full echo later."""

    id: str
    status: str
    tag: str | None = None
    partner_id: str | None = None
