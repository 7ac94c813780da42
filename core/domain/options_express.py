"""A stock plan expressed as option contracts: which contracts, what each risks at the stock's stop, what each is
worth at the targets, where it breaks even, and the order that would open it.

Moves are measured from the underlying price the chain was quoted at, with a delta-gamma estimate
(value change = delta x move + gamma x move^2 / 2). That is an approximation: it ignores time decay and changes
in implied volatility, so the loss at the stop is capped at the premium (a long option cannot lose more) and a
value at a target never goes below intrinsic value (nor above the width of a vertical). Premiums are the prices a
buyer would pay at once: the ask, and for a debit vertical the long leg's ask minus the short leg's bid.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

import msgspec

from core.domain.news import EarningsDate
from core.domain.options_types import OptionRow
from core.domain.orders import OPTION_MULTIPLIER
from core.domain.position_actions import OptionSymbol
from core.errors import Invalid

Structure = Literal["single", "vertical", "both"]
WIDE_SPREAD_PCT = 5.0
LOW_OPEN_INTEREST = 100
MIN_LOSS = 0.01


class StockPlan(msgspec.Struct, frozen=True, kw_only=True):
    side: Literal["long", "short"]
    entry: float
    stop: float
    targets: tuple[float, ...] = ()

    def check(self) -> None:
        """A long plan has its stop below the entry and its targets above it; a short plan the reverse."""
        if min(self.entry, self.stop, *self.targets) <= 0:
            raise Invalid("entry, stop and targets must be above zero", details={"field": "entry"})
        sign = 1 if self.side == "long" else -1
        if (self.entry - self.stop) * sign <= 0:
            where = "below" if sign > 0 else "above"
            raise Invalid(f"a {self.side} plan needs its stop {where} the entry", details={"field": "stop"})
        for target in self.targets:
            if (target - self.entry) * sign <= 0:
                where = "above" if sign > 0 else "below"
                raise Invalid(f"target {target:g} must be {where} the entry {self.entry:g} for a {self.side} plan",
                              details={"field": "targets"})


class ExpressPrefs(msgspec.Struct, frozen=True, kw_only=True):
    target_delta: float = 0.5
    dte_min: int = 0
    dte_max: int = 45
    max_spread_pct: float | None = None
    structure: Structure = "both"
    candidates: int = 3

    def check(self) -> None:
        if not 0.05 <= self.target_delta <= 0.95:
            raise Invalid("target_delta is an absolute delta between 0.05 and 0.95", details={"field": "target_delta"})
        if not 0 <= self.dte_min <= self.dte_max:
            raise Invalid("dte_min must be 0 or more and at most dte_max", details={"field": "dte_min"})
        if not 1 <= self.candidates <= 10:
            raise Invalid("candidates must be 1-10", details={"field": "candidates"})


class Leg(msgspec.Struct, frozen=True):
    option_symbol: str
    side: Literal["buy_to_open", "sell_to_open"]
    type: str
    strike: float
    bid: float | None
    ask: float | None
    delta: float | None
    greeks_source: str


class TargetValue(msgspec.Struct, frozen=True):
    target: float
    value: float
    pnl_per_contract: float


class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    """Per-share prices; `*_per_contract` in dollars (x100). `contracts`, `dollar_risk`, `sizing` and `order`
    are filled by `sized` once the trader's risk budget is known."""

    structure: Literal["single", "vertical"]
    legs: tuple[Leg, ...]
    expiration: str
    dte: int
    premium: float
    cost_per_contract: float
    value_at_stop: float
    risk_per_contract: float
    targets: tuple[TargetValue, ...]
    breakeven: float
    max_gain_per_contract: float | None
    warnings: tuple[str, ...]
    contracts: int = 0
    dollar_risk: float = 0.0
    sizing: str = ""
    order: dict[str, Any] | None = None


def _cents(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _delta_gamma(delta: float, gamma: float, move: float) -> float:
    return delta * move + 0.5 * gamma * move * move


def _intrinsic(kind: str, strike: float, price: float) -> float:
    return max(price - strike, 0.0) if kind == "call" else max(strike - price, 0.0)


def _warnings(rows: Sequence[OptionRow]) -> list[str]:
    found = []
    for row in rows:
        if row.spread_pct is not None and row.spread_pct > WIDE_SPREAD_PCT:
            found.append(f"wide spread on {row.option_symbol}: {row.spread_pct:.1f}% of mid")
        if row.open_interest is None:
            found.append(f"open interest of {row.option_symbol} is unknown")
        elif row.open_interest < LOW_OPEN_INTEREST:
            found.append(f"low open interest on {row.option_symbol}: {row.open_interest:,} "
                         f"(< {LOW_OPEN_INTEREST})")
        if row.greeks_source == "computed":
            found.append(f"greeks of {row.option_symbol} computed here (Black-Scholes from the mid); the vendor "
                         "had none")
    if rows and rows[0].dte == 0:
        found.append("0DTE: expires today; gamma is high, so delta and the dollar risk can change within minutes")
    return found


def _usable(row: OptionRow, kind: str, prefs: ExpressPrefs) -> bool:
    return (row.type == kind and prefs.dte_min <= row.dte <= prefs.dte_max and row.delta is not None
            and row.gamma is not None and row.ask is not None and row.ask > 0
            and (prefs.max_spread_pct is None or (row.spread_pct is not None
                                                  and row.spread_pct <= prefs.max_spread_pct)))


def express(plan: StockPlan, prefs: ExpressPrefs, rows: Sequence[OptionRow], underlying: float) -> list[Candidate]:
    """Candidates for `plan` (calls for a long plan, puts for a short one), nearest `target_delta` first."""
    plan.check()
    prefs.check()
    kind = "call" if plan.side == "long" else "put"
    pool = [row for row in rows if _usable(row, kind, prefs)]
    pool.sort(key=lambda row: (abs(abs(row.delta or 0) - prefs.target_delta), row.spread_pct or 1e9))
    out: list[Candidate] = []
    for row in pool[: prefs.candidates]:
        if prefs.structure in ("single", "both"):
            out.append(_single(plan, row, underlying))
        if prefs.structure in ("vertical", "both"):
            short = _short_leg(plan, row, rows)
            if short is not None:
                out.append(_vertical(plan, row, short, underlying))
    return out


def _priced(plan: StockPlan, underlying: float, *, premium: float, delta: float, gamma: float,
            floor: Callable[[float], float], cap: float | None) -> tuple[float, float, tuple[TargetValue, ...]]:
    """(value at the stop, loss per share at the stop, target values) for a position bought at `premium`."""
    at_stop = premium + _delta_gamma(delta, gamma, plan.stop - underlying)
    loss = min(max(premium - at_stop, 0.0), premium)
    if loss < MIN_LOSS:  # the estimate shows no loss at the stop: size as if the whole premium were at risk
        loss = premium
    targets = []
    for target in plan.targets:
        value = max(premium + _delta_gamma(delta, gamma, target - underlying), floor(target))
        if cap is not None:
            value = min(value, cap)
        targets.append(TargetValue(target, round(value, 2), round((value - premium) * OPTION_MULTIPLIER, 2)))
    return round(premium - loss, 4), loss, tuple(targets)


def _leg(row: OptionRow, side: Literal["buy_to_open", "sell_to_open"]) -> Leg:
    return Leg(row.option_symbol, side, row.type, row.strike, row.bid, row.ask, row.delta, row.greeks_source)


def _single(plan: StockPlan, row: OptionRow, underlying: float) -> Candidate:
    premium = float(row.ask or 0)
    delta, gamma = float(row.delta or 0), float(row.gamma or 0)
    at_stop, loss, targets = _priced(plan, underlying, premium=premium, delta=delta, gamma=gamma,
                                     floor=lambda price: _intrinsic(row.type, row.strike, price), cap=None)
    breakeven = row.strike + premium if row.type == "call" else row.strike - premium
    max_gain = None if row.type == "call" else round((row.strike - premium) * OPTION_MULTIPLIER, 2)
    return Candidate(structure="single", legs=(_leg(row, "buy_to_open"),), expiration=row.expiration.isoformat(),
                     dte=row.dte, premium=premium, cost_per_contract=round(premium * OPTION_MULTIPLIER, 2),
                     value_at_stop=at_stop, risk_per_contract=round(loss * OPTION_MULTIPLIER, 2), targets=targets,
                     breakeven=round(breakeven, 2), max_gain_per_contract=max_gain,
                     warnings=tuple(_warnings([row])))


def _short_leg(plan: StockPlan, long: OptionRow, rows: Sequence[OptionRow]) -> OptionRow | None:
    """The same expiration and type, further out of the money, at the strike nearest the first target."""
    if not plan.targets:
        return None
    further = [row for row in rows
               if row.type == long.type and row.expiration == long.expiration and row.bid and row.bid > 0
               and (row.strike > long.strike if long.type == "call" else row.strike < long.strike)]
    if not further:
        return None
    return min(further, key=lambda row: abs(row.strike - plan.targets[0]))


def _vertical(plan: StockPlan, long: OptionRow, short: OptionRow, underlying: float) -> Candidate:
    debit = round(float(long.ask or 0) - float(short.bid or 0), 2)
    width = abs(short.strike - long.strike)
    delta = float(long.delta or 0) - float(short.delta or 0)
    gamma = float(long.gamma or 0) - float(short.gamma or 0)
    kind = long.type

    def floor(price: float) -> float:
        return min(_intrinsic(kind, long.strike, price) - _intrinsic(kind, short.strike, price), width)

    at_stop, loss, targets = _priced(plan, underlying, premium=max(debit, 0.0), delta=delta, gamma=gamma,
                                     floor=floor, cap=width)
    breakeven = long.strike + debit if kind == "call" else long.strike - debit
    warnings = _warnings([long, short])
    if debit <= 0 or debit >= width:
        warnings.append(f"debit {debit:.2f} is outside (0, {width:g}): the quotes do not allow this spread")
    return Candidate(structure="vertical", legs=(_leg(long, "buy_to_open"), _leg(short, "sell_to_open")),
                     expiration=long.expiration.isoformat(), dte=long.dte, premium=debit,
                     cost_per_contract=round(debit * OPTION_MULTIPLIER, 2), value_at_stop=at_stop,
                     risk_per_contract=round(loss * OPTION_MULTIPLIER, 2), targets=targets,
                     breakeven=round(breakeven, 2),
                     max_gain_per_contract=round((width - debit) * OPTION_MULTIPLIER, 2), warnings=tuple(warnings))


def sizing_prices(candidate: Candidate) -> tuple[Decimal, Decimal]:
    """(entry, stop) per share for the position sizer: risk per unit = entry - stop = the loss at the stock stop.

    A loss equal to the whole premium would put the stop at 0, which the sizer refuses as a price; then both
    move up a cent, which keeps the risk exact and overstates the cost by $1 a contract (the safe side)."""
    entry, loss = _cents(candidate.premium), _cents(candidate.risk_per_contract / OPTION_MULTIPLIER)
    if loss >= entry:
        return loss + Decimal("0.01"), Decimal("0.01")
    return entry, entry - loss


def sized(candidate: Candidate, contracts: int, summary: str) -> Candidate:
    """The candidate with its size, its dollar risk and the order that would open it (none for 0 contracts)."""
    order = _order(candidate, contracts) if contracts > 0 else None
    warnings = candidate.warnings
    if contracts > 0 and order is None:
        warnings += ("the contract symbol is not an OCC symbol, so no order can be drafted",)
    return msgspec.structs.replace(candidate, contracts=contracts, sizing=summary, order=order, warnings=warnings,
                                   dollar_risk=round(contracts * candidate.risk_per_contract, 2))


def _order(candidate: Candidate, contracts: int) -> dict[str, Any] | None:
    """The REST order body (`POST /api/v1/broker/orders`): an option order, or a debit multileg for a vertical."""
    parsed = [OptionSymbol.parse(leg.option_symbol) for leg in candidate.legs]
    if any(symbol is None for symbol in parsed):
        return None
    root = parsed[0].root  # type: ignore[union-attr]
    price = str(_cents(candidate.premium))
    if candidate.structure == "single":
        return {"symbol": root, "class": "option", "option_symbol": candidate.legs[0].option_symbol,
                "side": "buy_to_open", "quantity": contracts, "type": "limit", "price": price, "duration": "day"}
    return {"symbol": root, "class": "multileg", "side": "buy_to_open", "quantity": contracts, "type": "debit",
            "price": price, "duration": "day",
            "legs": [{"option_symbol": leg.option_symbol, "side": leg.side, "quantity": contracts}
                     for leg in candidate.legs]}


def with_earnings(candidate: Candidate, releases: Sequence[EarningsDate]) -> Candidate:
    """The candidate warned of each earnings release on or before its expiration: the report can gap the
    underlying past the plan's stop, and implied volatility usually collapses after it."""
    expiration = date.fromisoformat(candidate.expiration)
    found = tuple(f"earnings {r.date.isoformat()} ({r.time.value}, {r.source}) before this expiration: a gap past "
                  "the stop and an IV drop after the report" for r in releases if r.date <= expiration)
    return msgspec.structs.replace(candidate, warnings=candidate.warnings + found) if found else candidate
