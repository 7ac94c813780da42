"""Position sizing: how many shares (or contracts) a plan can take under the trader's risk limits.

    budget   = equity x risk_per_trade_pct / 100 x scale,  scale = floor + (1 - floor) x confidence
    quantity = min(budget // risk per unit, buying power // unit cost, equity x max_position_pct / 100 // unit
               cost, max_order_notional // unit cost), each rounded down to the lot

A unit is a share, or an option contract (premium x 100). `limited_by` names the constraint that bound; on a
tie the earlier one in that list wins (the risk budget is the most natural explanation). Every division is an
exact integer division (`//`) so `quantity x risk per unit <= budget` holds to the last digit.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

import msgspec

from core.domain.numbers import CENT, HUNDRED, ONE, ZERO, cents, fmt_money, fmt_num
from core.domain.orders import OPTION_MULTIPLIER
from core.domain.plans import Instrument, Issue, Side, parse_choice, parse_decimal, parse_price, parse_symbol
from core.domain.risk import RiskLimits

CONFIDENCE_FLOOR = Decimal("0.5")
MAX_MONEY = Decimal(1_000_000_000_000)
MAX_RISK_PER_TRADE_PCT = Decimal(10)


class LimitedBy(StrEnum):
    RISK_BUDGET = "risk_budget"
    BUYING_POWER = "buying_power"
    MAX_POSITION_PCT = "max_position_pct"
    MAX_ORDER_NOTIONAL = "max_order_notional"



class Sizing(msgspec.Struct, frozen=True):
    side: Side
    instrument: Instrument
    symbol: str | None
    entry: Decimal
    stop: Decimal
    equity: Decimal
    buying_power: Decimal | None
    risk_per_trade_pct: Decimal
    confidence: Decimal | None
    confidence_scale: Decimal
    risk_budget: Decimal
    risk_per_unit: Decimal
    quantity: int
    risk_amount: Decimal
    notional: Decimal
    pct_of_equity: Decimal
    risk_pct_of_equity: Decimal
    limited_by: LimitedBy
    caps: tuple[tuple[LimitedBy, int], ...]

    @property
    def unit(self) -> str:
        return "contracts" if self.instrument is Instrument.OPTION else "shares"


class SizingResult(msgspec.Struct, frozen=True):
    errors: tuple[Issue, ...]
    warnings: tuple[Issue, ...]
    summary: str
    sizing: Sizing | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def _limit_words(sizing: Sizing, limits: RiskLimits) -> str:
    if sizing.limited_by is LimitedBy.RISK_BUDGET:
        return "the risk budget"
    if sizing.limited_by is LimitedBy.BUYING_POWER:
        assert sizing.buying_power is not None
        return f"the {fmt_money(sizing.buying_power)} buying power"
    if sizing.limited_by is LimitedBy.MAX_POSITION_PCT:
        return f"the {fmt_num(limits.max_position_pct)}% max position size"
    return f"the {fmt_money(limits.max_order_notional)} max order notional"


def _summary(sizing: Sizing, limits: RiskLimits) -> str:
    what = f" of {sizing.symbol}" if sizing.symbol else ""
    scaled = (f" x {fmt_num(sizing.confidence_scale)} for confidence {fmt_num(sizing.confidence)}"
              if sizing.confidence is not None else "")
    return (f"{'Long' if sizing.side is Side.LONG else 'Short'} {sizing.quantity} {sizing.unit}{what} at "
            f"{fmt_num(sizing.entry)}, stop {fmt_num(sizing.stop)}: risk {fmt_money(sizing.risk_amount)} of the "
            f"{fmt_money(sizing.risk_budget)} budget ({fmt_num(sizing.risk_per_trade_pct)}% of "
            f"{fmt_money(sizing.equity)} equity{scaled}). Notional {fmt_money(sizing.notional)}, "
            f"{fmt_num(sizing.pct_of_equity)}% of equity. Limited by {_limit_words(sizing, limits)}.")


def suggest_size(*, entry: object, stop: object, limits: RiskLimits, equity: object,
                 buying_power: object = None, confidence: object = None, risk_per_trade_pct: object = None,
                 instrument: object = Instrument.STOCK, symbol: str | None = None, lot_size: int = 1,
                 confidence_floor: Decimal = CONFIDENCE_FLOOR) -> SizingResult:
    """Size a trade. The side follows from entry vs stop (stop below entry: long). `risk_per_trade_pct`
    overrides `limits.risk_per_trade_pct`; without `confidence` the budget is not scaled; without
    `buying_power` that cap is skipped and a warning says so. Inputs are parsed like plan prices."""
    parsed_entry = parse_price("entry", entry)
    parsed_stop = parse_price("stop", stop)
    parsed_equity = parse_decimal("equity", equity, ZERO, MAX_MONEY)
    # The setting was validated when saved (RiskLimitsSettings: 0 < pct <= 10); only an override is parsed.
    pct = limits.risk_per_trade_pct if risk_per_trade_pct is None else parse_decimal(
        "risk_per_trade_pct", risk_per_trade_pct, ZERO, MAX_RISK_PER_TRADE_PCT)
    parsed_buying_power = None if buying_power is None else parse_decimal(
        "buying_power", buying_power, ZERO, MAX_MONEY, low_inclusive=True)
    parsed_confidence = None if confidence is None else parse_decimal(
        "confidence", confidence, ZERO, ONE, low_inclusive=True, limit_places=False)
    kind = parse_choice("instrument", instrument, Instrument)
    parsed_symbol = parse_symbol(symbol)
    if (isinstance(parsed_entry, Decimal) and isinstance(parsed_stop, Decimal) and isinstance(parsed_equity, Decimal)
            and isinstance(pct, Decimal) and not isinstance(parsed_buying_power, Issue)
            and not isinstance(parsed_confidence, Issue) and isinstance(kind, Instrument)
            and not isinstance(parsed_symbol, Issue) and lot_size >= 1 and parsed_entry != parsed_stop):
        return _size(parsed_entry, parsed_stop, parsed_equity, pct, parsed_buying_power, parsed_confidence, kind,
                     parsed_symbol, lot_size, limits, confidence_floor)
    errors = [v for v in (parsed_entry, parsed_stop, parsed_equity, pct, parsed_buying_power, parsed_confidence,
                          kind, parsed_symbol) if isinstance(v, Issue)]
    if lot_size < 1:
        errors.append(Issue("out_of_range", f"lot_size must be a whole number of at least 1 (got {lot_size})",
                            "lot_size"))
    if not errors:  # everything parsed, so the stop equals the entry
        errors.append(Issue("zero_risk", "stop equals entry: there is no risk to size from", "stop"))
    return SizingResult(tuple(errors), (), "Cannot size: " + "; ".join(e.message for e in errors) + ".")


def _size(entry: Decimal, stop: Decimal, equity: Decimal, pct: Decimal,  # noqa: PLR0917
          buying_power: Decimal | None, confidence: Decimal | None, kind: Instrument, symbol: str | None, lot: int,
          limits: RiskLimits, confidence_floor: Decimal) -> SizingResult:
    if confidence is not None:
        confidence = confidence.quantize(CENT)
        scale = confidence_floor + (ONE - confidence_floor) * confidence
    else:
        scale = ONE
    budget = (equity * pct / HUNDRED * scale).quantize(CENT, ROUND_DOWN)
    unit = OPTION_MULTIPLIER if kind is Instrument.OPTION else 1
    risk_per_unit = abs(entry - stop) * unit
    unit_cost = entry * unit

    def whole_lots(units: Decimal) -> int:
        return int(units) // lot * lot

    caps = [(LimitedBy.RISK_BUDGET, whole_lots(budget // risk_per_unit))]
    if buying_power is not None:
        caps.append((LimitedBy.BUYING_POWER, whole_lots(buying_power // unit_cost)))
    caps += [(LimitedBy.MAX_POSITION_PCT, whole_lots(equity * limits.max_position_pct / HUNDRED // unit_cost)),
             (LimitedBy.MAX_ORDER_NOTIONAL, whole_lots(limits.max_order_notional // unit_cost))]
    limited_by, quantity = min(caps, key=lambda cap: cap[1])  # the earliest cap wins a tie
    risk_amount = quantity * risk_per_unit
    notional = quantity * unit_cost
    sizing = Sizing(Side.LONG if entry > stop else Side.SHORT, kind, symbol, entry, stop, equity, buying_power,
                    pct, confidence, scale, budget, risk_per_unit, quantity, risk_amount, notional,
                    cents(notional / equity * HUNDRED), cents(risk_amount / equity * HUNDRED), limited_by, tuple(caps))
    warnings = []
    if buying_power is None:
        warnings.append(Issue("buying_power_unknown", "buying power is unknown, so it was not checked",
                              "buying_power"))
    if quantity == 0:
        one = sizing.unit.rstrip("s")
        warnings.append(Issue("zero_size", f"{_limit_words(sizing, limits)} allows fewer than {lot} "
                                           f"{one if lot == 1 else sizing.unit}; one {one} risks "
                                           f"{fmt_money(risk_per_unit)} and costs {fmt_money(unit_cost)}"))
    return SizingResult((), tuple(warnings), _summary(sizing, limits), sizing)
