"""The risk engine's rules: limits, the account state they produce, and the single gate every order passes.

States, from a pure `evaluate_risk(limits, account, now)`:

    ACTIVE       every limit has room; orders are checked one by one (`check_order`)
    REDUCE_ONLY  a behaviour limit is used up (trades today, too many open positions, a loss-streak cooldown);
                 lifts itself when the cooldown ends, a position closes, or the day rolls over
    HALTED       the daily loss limit ($ or % of equity, whichever is smaller) is reached, or equity is gone;
                 lasts until the day's P&L is reset

In both REDUCE_ONLY and HALTED an order that only shrinks an existing position is still approved: a halt must
never trap a trader in a losing position. What HALTED adds is its severity (a critical alert, for the rest of
the day). Exposure-reducing orders also skip the order-level limits for the same reason.

Outcomes are values: `check_order` returns `Approved` or `Denied(code, reason)`, with the numbers in the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from core.domain.orders import (
    OPTION_MULTIPLIER,
    Balances,
    OrderClass,
    OrderRequest,
    OrderSide,
    Position,
    contract_multiplier,
)
from core.domain.plans import cents, fmt_money, fmt_num
from core.domain.valuation import DEFAULT_COLLAR_PCT, bracket_loss, collar_denial, worst_case_price


class TradingStatus(StrEnum):
    ACTIVE = "ACTIVE"
    REDUCE_ONLY = "REDUCE_ONLY"
    HALTED = "HALTED"


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """The trader's limits. Field names and defaults match `RiskLimitsSettings` (+ `default_rr`), which validates
    them: build with `RiskLimits(**tunables.risk.model_dump(), default_rr=tunables.default_rr)`."""

    max_daily_loss_usd: Decimal = Decimal(500)
    max_daily_loss_pct: Decimal = Decimal(2)
    max_open_positions: int = 5
    max_position_pct: Decimal = Decimal(25)
    max_trades_per_day: int = 10
    max_order_notional: Decimal = Decimal(25_000)
    max_consecutive_losses: int = 3
    cooldown_minutes: int = 30
    risk_per_trade_pct: Decimal = Decimal(1)
    default_rr: Decimal = Decimal(2)


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """What the engine read this cycle. `prices` maps a position's symbol (OCC for options) to its live last
    price; `balances.realized_pnl_today` is today's realized P&L."""

    balances: Balances
    positions: tuple[Position, ...] = ()
    prices: Mapping[str, Decimal] = field(default_factory=dict)
    trades_today: int = 0
    consecutive_losses: int = 0
    last_loss_at: datetime | None = None

    @property
    def open_positions(self) -> int:
        return sum(1 for p in self.positions if p.quantity)

    def held(self, symbol: str) -> Decimal:
        """Signed quantity held in `symbol` (negative when short), 0 when flat."""
        return sum((p.quantity for p in self.positions if p.symbol == symbol), Decimal(0))


@dataclass(frozen=True, slots=True)
class LimitUsage:
    name: str
    used: Decimal
    limit: Decimal
    text: str

    @property
    def ratio(self) -> float:
        return float(self.used / self.limit) if self.limit > 0 else 1.0


@dataclass(frozen=True, slots=True)
class RiskState:
    status: TradingStatus
    reasons: tuple[str, ...]
    usage: tuple[LimitUsage, ...]
    limits: RiskLimits
    equity: Decimal
    day_pnl: Decimal
    evaluated_at: datetime
    cooldown_until: datetime | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Approved:
    """`max_loss`: what a bracket loses at its stop (its entry at the worst case), None for other orders."""

    reducing: bool
    notional: Decimal | None = None
    max_loss: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Denied:
    code: str
    reason: str


Decision = Approved | Denied


def _pct(part: Decimal, whole: Decimal) -> Decimal:
    return cents(part / whole * 100) if whole > 0 else Decimal(0)


def _day_pnl(account: AccountSnapshot) -> tuple[Decimal, list[str]]:
    """Realized today plus unrealized at live prices (vs cost basis: conservative for positions held overnight).
    A position without a live price adds nothing and a warning that says so."""
    pnl = account.balances.realized_pnl_today
    warnings = []
    for position in account.positions:
        price = account.prices.get(position.symbol)
        if price is None:
            warnings.append(f"no live price for {position.symbol}; its unrealized P&L is not counted")
            continue
        pnl += price * position.quantity * contract_multiplier(position.symbol) - position.cost_basis
    return cents(pnl), warnings


def _largest_position_pct(account: AccountSnapshot) -> Decimal:
    values = [abs(account.prices[p.symbol] * p.quantity * contract_multiplier(p.symbol))
              for p in account.positions if p.symbol in account.prices]
    return _pct(max(values, default=Decimal(0)), account.balances.equity)


def evaluate_risk(limits: RiskLimits, account: AccountSnapshot, now: datetime) -> RiskState:
    """Compute the state for this cycle. Boundaries: reaching a limit counts (a $500 loss on a $500 limit halts,
    10/10 trades is reduce-only), except open positions, where being *at* the limit only stops new symbols
    (in `check_order`) and being *above* it is reduce-only. The largest position's share of equity is reported,
    not enforced here: `check_order` stops any order that would push a position past `max_position_pct`."""
    equity = account.balances.equity
    day_pnl, warnings = _day_pnl(account)
    loss = max(Decimal(0), -day_pnl)
    loss_limit = min(limits.max_daily_loss_usd, cents(equity * limits.max_daily_loss_pct / 100))
    open_positions = account.open_positions
    largest_pct = _largest_position_pct(account)
    usage = (
        LimitUsage("daily_loss", loss, loss_limit, f"{fmt_money(loss)} of {fmt_money(loss_limit)} daily loss"),
        LimitUsage("trades", Decimal(account.trades_today), Decimal(limits.max_trades_per_day),
                   f"{account.trades_today}/{limits.max_trades_per_day} trades"),
        LimitUsage("open_positions", Decimal(open_positions), Decimal(limits.max_open_positions),
                   f"{open_positions}/{limits.max_open_positions} positions"),
        LimitUsage("consecutive_losses", Decimal(account.consecutive_losses),
                   Decimal(limits.max_consecutive_losses),
                   f"{account.consecutive_losses}/{limits.max_consecutive_losses} losses in a row"),
        LimitUsage("largest_position_pct", largest_pct, limits.max_position_pct,
                   f"largest position {fmt_num(largest_pct)}% of equity (limit {fmt_num(limits.max_position_pct)}%)"),
    )
    halts = []
    if equity <= 0:
        halts.append(f"equity is {fmt_money(equity)}")
    elif loss >= loss_limit:
        halts.append(f"daily loss {fmt_money(loss)} reached the {fmt_money(loss_limit)} limit "
                     f"({fmt_money(limits.max_daily_loss_usd)} or {fmt_num(limits.max_daily_loss_pct)}% of "
                     f"{fmt_money(equity)} equity, whichever is smaller)")
    reduces = []
    if account.trades_today >= limits.max_trades_per_day:
        reduces.append(f"{account.trades_today}/{limits.max_trades_per_day} trades today; no new trades until "
                       "tomorrow")
    if open_positions > limits.max_open_positions:
        reduces.append(f"{open_positions} positions open, above the {limits.max_open_positions} limit")
    cooldown_until = None
    if account.consecutive_losses >= limits.max_consecutive_losses:
        if account.last_loss_at is None:
            reduces.append(f"{account.consecutive_losses} losses in a row and the time of the last one is unknown, "
                           "so the cooldown cannot be timed")
        elif now < account.last_loss_at + timedelta(minutes=limits.cooldown_minutes):
            cooldown_until = account.last_loss_at + timedelta(minutes=limits.cooldown_minutes)
            minutes_left = -(-(cooldown_until - now) // timedelta(minutes=1))
            reduces.append(f"{account.consecutive_losses} losses in a row: cooling down until "
                           f"{cooldown_until:%H:%M} UTC ({minutes_left} min left)")
    status = TradingStatus.HALTED if halts else TradingStatus.REDUCE_ONLY if reduces else TradingStatus.ACTIVE
    return RiskState(status, (*halts, *reduces), usage, limits, equity, day_pnl, now, cooldown_until,
                     tuple(warnings))


_CLOSING_SIDES = frozenset({OrderSide.SELL, OrderSide.BUY_TO_COVER, OrderSide.SELL_TO_CLOSE,
                            OrderSide.BUY_TO_CLOSE})


def _legs(order: OrderRequest) -> tuple[tuple[str, OrderSide, Decimal], ...]:
    if order.legs:
        return tuple((leg.option_symbol, leg.side, Decimal(leg.quantity)) for leg in order.legs)
    return ((order.option_symbol or order.symbol, order.side, order.quantity),)


def reduces_exposure(order: OrderRequest, account: AccountSnapshot) -> bool:
    """True when every leg uses a closing side against a held position, by no more than its size (an opening
    side such as sell_short never counts, even against a long: the broker would open a new position)."""
    for symbol, side, quantity in _legs(order):
        held = account.held(symbol)
        if side not in _CLOSING_SIDES or not held or side.is_buy == (held > 0) or quantity > abs(held):
            return False
    return True


def _market_price(order: OrderRequest, account: AccountSnapshot, quote: Decimal | None) -> Decimal | None:
    """The fresh quote, else the risk cycle's live price (at most RISK_EVAL_SEC old); never the order's own price."""
    return quote if quote is not None else account.prices.get(order.option_symbol or order.symbol)


def check_order(order: OrderRequest, state: RiskState, account: AccountSnapshot, *,
                price: Decimal | None = None, collar_pct: Decimal = DEFAULT_COLLAR_PCT) -> Decision:
    """The single gate. `price` is the fresh quote of the order's symbol; every order is valued at its worst case
    against it (`core.domain.valuation`), and a limit or stop price more than `collar_pct` % from it is refused,
    reducing orders included. An order that adds exposure and has no quote cannot be valued: it is refused.

    Order-level limits for orders that add exposure: max order notional, max open positions (a new symbol while
    at the limit), max position % of equity (the resulting position), buying power. A multileg order is
    valued at its net `price` x quantity x 100 and checked against the notional and buying power only.
    """
    if order.quantity <= 0:
        return Denied("invalid_quantity", f"quantity must be above zero (got {order.quantity})")
    symbol = order.option_symbol or order.symbol
    market = _market_price(order, account, price)
    if market is not None and (too_far := collar_denial(order, market, collar_pct)) is not None:
        return Denied("price_collar", too_far)
    if reduces_exposure(order, account):
        return Approved(reducing=True)
    if state.status is not TradingStatus.ACTIVE:
        what = "Trading is halted" if state.status is TradingStatus.HALTED else "Reduce-only"
        return Denied(state.status.value.lower(), f"{what}: {'; '.join(state.reasons)}. Only orders that reduce "
                                                  f"an open position are accepted; this one opens or adds to {symbol}.")
    reference = worst_case_price(order, market)
    if reference is None:
        if order.order_class is OrderClass.MULTILEG:
            return Denied("no_price", f"a multileg {order.type} order has no net price to value it at: give a "
                                      "debit or credit price")
        return Denied("no_quote", f"no fresh quote for {symbol}, so this {order.type} order cannot be valued at its "
                                  "worst case against the limits; nothing was sent. Try again when quotes are "
                                  "available")
    limits = state.limits
    multiplier = OPTION_MULTIPLIER if order.order_class is OrderClass.MULTILEG else contract_multiplier(symbol)
    notional = cents(reference * order.quantity * multiplier)
    if notional > limits.max_order_notional:
        return Denied("max_order_notional", f"order value {fmt_money(notional)} is above the "
                                            f"{fmt_money(limits.max_order_notional)} per-order limit")
    if not order.legs and not account.held(symbol) and account.open_positions >= limits.max_open_positions:
        return Denied("max_open_positions", f"{account.open_positions}/{limits.max_open_positions} positions are "
                                            "open; "
                                            f"close one before opening {symbol}")
    if not order.legs:
        delta = order.quantity if order.side.is_buy else -order.quantity
        resulting = abs(account.held(symbol) + delta) * reference * multiplier
        if resulting * 100 > limits.max_position_pct * state.equity:
            cap = state.equity * limits.max_position_pct / 100
            return Denied("max_position_pct", f"the {symbol} position would be {fmt_money(resulting)}, above the "
                                              f"{fmt_num(limits.max_position_pct)}% max position ({fmt_money(cap)} "
                                              f"of {fmt_money(state.equity)} equity)")
    buying_power = account.balances.buying_power
    if notional > buying_power:
        return Denied("buying_power", f"order value {fmt_money(notional)} is above the "
                                      f"{fmt_money(buying_power)} buying power")
    max_loss = bracket_loss(order, reference)
    room = next((u.limit - u.used for u in state.usage if u.name == "daily_loss"), None)
    if max_loss is not None and room is not None and max_loss > room:
        return Denied("bracket_loss", f"the stop would lose {fmt_money(max_loss)}, more than the "
                                      f"{fmt_money(room)} left of today's daily loss limit")
    return Approved(reducing=False, notional=notional, max_loss=max_loss)
