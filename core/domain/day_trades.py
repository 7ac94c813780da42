"""Today's trades, rebuilt from the broker's order list: how many fills, what each closed trade made or lost, and
the loss streak the risk limits count.

The broker does not say which fills closed which trades, so today's fills are replayed, in fill time order,
against the start-of-day book: the start-of-day quantity of a symbol is its current quantity minus today's net
fills, at the current position's average price. A fill against the held side closes (part of) the position and
books its P&L; any other fill opens or adds and moves the average. A position opened before today and fully
closed today has no known entry price: its close is counted in `unknown_closes`, neither a win nor a loss.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from core.domain.numbers import ZERO
from core.domain.orders import BrokerOrder, OrderSide, Position, contract_multiplier

MARKET_TZ = ZoneInfo("America/New_York")
FILLED = frozenset({"filled", "partially_filled"})
OPENING_SIDES = frozenset({OrderSide.BUY, OrderSide.SELL_SHORT, OrderSide.BUY_TO_OPEN, OrderSide.SELL_TO_OPEN})


@dataclass(frozen=True, slots=True)
class DayTrades:
    """What today's fills say: fills counted, closed trades' results in order, and the current loss streak."""

    trades: int
    results: tuple[Decimal, ...]
    consecutive_losses: int
    last_loss_at: datetime | None
    unknown_closes: int


@dataclass(frozen=True, slots=True)
class Fill:
    symbol: str
    side: OrderSide
    quantity: Decimal
    price: Decimal | None
    at: datetime | None

    @property
    def signed_quantity(self) -> Decimal:
        return self.quantity if self.side.is_buy else -self.quantity


@dataclass(slots=True)
class Holding:
    """One symbol's position during the replay: signed quantity and average price (None when unknown)."""

    quantity: Decimal
    average: Decimal | None

    def closes(self, fill: Fill) -> bool:
        """A fill on the other side of a held position that is not an opening order closes (part of) it."""
        if not self.quantity or fill.side in OPENING_SIDES:
            return False
        return (self.quantity > 0) != fill.side.is_buy

    def close(self, fill: Fill) -> Decimal | None:
        """Book the closing fill; its P&L, or None when the entry or the fill price is unknown."""
        closed = min(fill.quantity, abs(self.quantity))
        direction = 1 if self.quantity > 0 else -1
        pnl = None
        if self.average is not None and fill.price is not None:
            pnl = (fill.price - self.average) * closed * direction * contract_multiplier(fill.symbol)
        self.quantity += fill.signed_quantity
        if not self.quantity:
            self.average = None
        return pnl

    def add(self, fill: Fill) -> None:
        """Book an opening fill: the average moves to the size-weighted one (unknown stays unknown)."""
        before = abs(self.quantity)
        self.quantity += fill.signed_quantity
        if fill.price is None or (self.average is None and before):
            return
        if not self.quantity:
            self.average = None
            return
        self.average = ((self.average or ZERO) * before + fill.price * fill.quantity) / abs(self.quantity)


def fills(order: BrokerOrder, at: datetime | None = None) -> list[Fill]:
    """What an order filled, one per leg for multileg orders (at the order's time)."""
    at = at or order.updated_at or order.created_at
    if order.legs:
        return [fill for leg in order.legs for fill in fills(leg, at)]
    if order.status not in FILLED:
        return []
    quantity = order.exec_quantity or (order.quantity if order.status == "filled" else ZERO)
    if quantity <= 0:
        return []
    return [Fill(order.option_symbol or order.symbol, order.side, quantity, order.avg_fill_price, at)]


def filled_on(order: BrokerOrder, day: date) -> bool:
    when = order.updated_at or order.created_at
    return when is None or when.astimezone(MARKET_TZ).date() == day


def start_of_day_book(todays_fills: Sequence[Fill], positions: Sequence[Position]) -> dict[str, Holding]:
    net: dict[str, Decimal] = {}
    for fill in todays_fills:
        net[fill.symbol] = net.get(fill.symbol, ZERO) + fill.signed_quantity
    held = {p.symbol: p for p in positions}
    book = {}
    for symbol, change in net.items():
        current = held.get(symbol)
        quantity = current.quantity if current else ZERO
        book[symbol] = Holding(quantity - change, current.average_price if current and current.quantity else None)
    return book


def loss_streak(results: Sequence[tuple[Decimal, datetime | None]]) -> tuple[int, datetime | None]:
    """How many closed trades lost in a row at the end of the day so far, and when the latest of them closed."""
    streak, last_loss_at = 0, None
    for pnl, when in reversed(results):
        if pnl >= 0:
            break
        streak += 1
        last_loss_at = last_loss_at or when
    return streak, last_loss_at


def day_trades(orders: Iterable[BrokerOrder], positions: Sequence[Position], now: datetime) -> DayTrades:
    """Count today's filled orders and replay their fills against the start-of-day book (see the module doc)."""
    today = now.astimezone(MARKET_TZ).date()
    todays = sorted((o for o in orders if filled_on(o, today)), key=lambda o: o.updated_at or o.created_at or now)
    todays_fills = [fill for order in todays for fill in fills(order)]
    book = start_of_day_book(todays_fills, positions)
    results: list[tuple[Decimal, datetime | None]] = []
    unknown = 0
    for fill in todays_fills:
        holding = book[fill.symbol]
        if not holding.closes(fill):
            holding.add(fill)
        elif (pnl := holding.close(fill)) is None:
            unknown += 1
        else:
            results.append((pnl, fill.at))
    streak, last_loss_at = loss_streak(results)
    return DayTrades(sum(1 for o in todays if fills(o)), tuple(pnl for pnl, _ in results), streak, last_loss_at,
                     unknown)
