"""Trade plans: parse and check entry/stop/targets, then compute risk per share, R multiples, R bands, warnings
and a summary built only from those numbers.

Inputs arrive raw (JSON numbers or strings) and are parsed here, so every front-end (REST, bots, coach tools)
refuses the same things in the same words. Outcomes are values: a `PlanResult` carries `errors` (the plan is
not valid) and `warnings` (valid but risky), each an `Issue` naming the field and what would be valid.

Every number a summary shows is a field of the result, formatted by `fmt_num`/`fmt_money` (exact: stored
ratios are rounded once, to 0.01, before they are shown), so a reader can trust the text as much as the fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TypeVar

import msgspec

from core.domain.market import Quote
from core.domain.numbers import HUNDRED, MAX_PLACES

# Re-exported (`x as x`): the risk, alert, coach and bot modules import the number formatting from here.
from core.domain.numbers import ZERO as ZERO  # noqa: PLC0414
from core.domain.numbers import cents as cents  # noqa: PLC0414
from core.domain.numbers import fmt_money as fmt_money  # noqa: PLC0414
from core.domain.numbers import fmt_num as fmt_num  # noqa: PLC0414
from core.domain.orders import OPTION_MULTIPLIER
from core.domain.symbols import normalize_symbol
from core.errors import Invalid

MAX_PRICE = Decimal(1_000_000_000)
MAX_TARGETS = 3
R_MULTIPLES = (1, 2, 3)
STALE_AFTER_SEC = 60.0
_SMALLEST = Decimal(1).scaleb(-MAX_PLACES)

E = TypeVar("E", bound=StrEnum)


class Side(StrEnum):
    LONG = "long"
    SHORT = "short"


class Instrument(StrEnum):
    """`option` means entry, stop and targets are premiums and one contract is `OPTION_MULTIPLIER` shares."""

    STOCK = "stock"
    OPTION = "option"

    @property
    def multiplier(self) -> int:
        return OPTION_MULTIPLIER if self is Instrument.OPTION else 1


# Per instrument: the stop distance (% of entry) and the entry-to-last distance beyond which we warn.
_MAX_STOP_PCT = {Instrument.STOCK: Decimal(10), Instrument.OPTION: Decimal(50)}
_FAR_FROM_LAST_PCT = {Instrument.STOCK: Decimal(2), Instrument.OPTION: Decimal(15)}


@dataclass(frozen=True, slots=True)
class Issue:
    """One error or warning: a stable `code`, a plain-words `message`, and the input `field` it is about."""

    code: str
    message: str
    field: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "field": self.field}


def _shown(raw: object) -> str:
    text = repr(raw) if isinstance(raw, str) else str(raw)
    return text if len(text) <= 24 else text[:24] + "..."


_HINTS = {"separators": ", written without separators like 1234.50",
          "not_finite": "; NaN and Infinity are not numbers"}


def parse_decimal(field: str, raw: object, low: Decimal = ZERO, high: Decimal = MAX_PRICE, *,
                  low_inclusive: bool = False, limit_places: bool = True) -> Decimal | Issue:
    """`raw` (JSON number or numeric string) as a Decimal inside the bounds (by default: a price), or the Issue
    saying what is valid.

    Refused: booleans, thousands separators (`1,000` is ambiguous across locales), NaN/Infinity, values out of
    bounds, and (with `limit_places`) more than MAX_PLACES decimals, which keeps every later division exact and
    bounded. A float is read through its repr (`0.1` is 0.1, not its binary expansion).
    """
    text: str | Decimal | int | None = None
    why = "not_a_number"
    if isinstance(raw, str):
        if "," in raw or "_" in raw:
            why = "separators"
        else:
            text = raw
    elif isinstance(raw, float):
        text = repr(raw)
    elif isinstance(raw, Decimal | int) and not isinstance(raw, bool):
        text = raw
    elif raw is None:
        why = "missing"
    if text is not None:
        try:
            value = Decimal(text)
        except (ValueError, InvalidOperation):
            pass
        else:
            if not value.is_finite():
                why = "not_finite"
            elif not (low < value <= high or (low_inclusive and value == low)):
                why = "out_of_range"
            elif limit_places and value != value.quantize(_SMALLEST):
                return Issue("too_precise", f"{field} may have at most {MAX_PLACES} decimals (got "
                                            f"{_shown(raw)})", field)
            else:
                return value
    bound = "at least" if low_inclusive else "greater than"
    rule = f"a number {bound} {low.normalize():f} and at most {high.normalize():f}"
    if why == "missing":
        return Issue("missing", f"{field} is missing; it must be {rule}", field)
    code = "not_a_number" if why == "separators" else why
    return Issue(code, f"{field} must be {rule}{_HINTS.get(why, '')} (got {_shown(raw)})", field)


def parse_price(field: str, raw: object) -> Decimal | Issue:
    """A price: greater than 0, at most MAX_PRICE, at most MAX_PLACES decimals (`parse_decimal`'s defaults)."""
    return parse_decimal(field, raw)


def parse_choice(field: str, raw: object, kind: type[E]) -> E | Issue:
    """The member of `kind` that `raw` names: a member itself or its value (blanks and case forgiven)."""
    if isinstance(raw, str):  # a member too: a StrEnum member is a str equal to its value
        try:
            return kind(raw.strip().lower())
        except ValueError:
            pass
    choices = " or ".join(f"'{member.value}'" for member in kind)
    return Issue(f"{field}_invalid", f"{field} must be {choices} (got {_shown(raw)})", field)


def parse_symbol(raw: str | None) -> str | Issue | None:
    """The normalised symbol, None when there is none (None or blank), or the Issue naming the rule."""
    if raw is None:
        return None
    try:
        return normalize_symbol(raw)
    except Invalid as exc:  # a blank one too, which is no symbol
        return None if not raw.strip() else Issue("symbol_invalid", exc.message, "symbol")


@dataclass(frozen=True, slots=True)
class MarketContext:
    """What the market says right now; every part is optional and an unknown part adds no warning."""

    last: Decimal | None = None
    bid: Decimal | None = None
    ask: Decimal | None = None
    quote_age_sec: float | None = None
    stale: bool = False
    market_open: bool | None = None

    @classmethod
    def from_quote(cls, quote: Quote, *, now: datetime, market_open: bool | None = None) -> MarketContext:
        age = (now - quote.ts).total_seconds() if quote.ts is not None else None
        return cls(last=quote.last, bid=quote.bid, ask=quote.ask, quote_age_sec=age, stale=quote.ts is None,
                   market_open=market_open)


# Result values are frozen msgspec Structs: immutable, and the API encodes them as they are.
class RBand(msgspec.Struct, frozen=True):
    """The price at which the trade has made `r` times its risk."""

    r: int
    price: Decimal


class Plan(msgspec.Struct, frozen=True):
    side: Side
    entry: Decimal
    stop: Decimal
    targets: tuple[Decimal, ...]
    symbol: str | None = None
    instrument: Instrument = Instrument.STOCK

    @property
    def direction(self) -> int:
        """+1 when a rising price is profit (long), -1 when a falling one is (short)."""
        return 1 if self.side is Side.LONG else -1

    @property
    def risk_per_share(self) -> Decimal:
        return (self.entry - self.stop) * self.direction

    @property
    def risk_per_unit(self) -> Decimal:
        """Risk of one share, or of one contract (premium risk x 100)."""
        return self.risk_per_share * self.instrument.multiplier


class PlanResult(msgspec.Struct, frozen=True):
    """Validation outcome. When `errors` is non-empty, `plan` is None and the numbers are empty."""

    errors: tuple[Issue, ...]
    warnings: tuple[Issue, ...]
    summary: str
    default_rr: Decimal
    plan: Plan | None = None
    risk_per_share: Decimal | None = None
    risk_per_unit: Decimal | None = None
    risk_pct: Decimal | None = None
    target_r: tuple[Decimal, ...] = ()
    r_bands: tuple[RBand, ...] = ()
    reward_risk: Decimal | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def _parse_plan(side: object, entry: object, stop: object, targets: Sequence[object],  # noqa: PLR0917
                symbol: str | None, instrument: object) -> Plan | list[Issue]:
    """The plan the raw inputs describe, or every Issue with them in field order."""
    parsed_side = parse_choice("side", side, Side)
    parsed_kind = parse_choice("instrument", instrument, Instrument)
    parsed_symbol = parse_symbol(symbol)
    parsed_entry = parse_price("entry", entry)
    parsed_stop = parse_price("stop", stop)
    parsed_targets = [parse_price(f"targets[{i}]", raw) for i, raw in enumerate(targets)]
    prices = tuple(target for target in parsed_targets if isinstance(target, Decimal))
    if (isinstance(parsed_side, Side) and isinstance(parsed_kind, Instrument) and isinstance(parsed_entry, Decimal)
            and isinstance(parsed_stop, Decimal) and not isinstance(parsed_symbol, Issue)
            and len(prices) == len(targets) <= MAX_TARGETS):
        return Plan(parsed_side, parsed_entry, parsed_stop, prices, parsed_symbol, parsed_kind)
    errors = [value for value in (parsed_side, parsed_kind, parsed_symbol, parsed_entry, parsed_stop,
                                  *parsed_targets) if isinstance(value, Issue)]
    if len(targets) > MAX_TARGETS:
        errors.append(Issue("too_many_targets", f"targets may list at most {MAX_TARGETS} prices "
                                                f"(got {len(targets)})", "targets"))
    return errors


def _side_errors(plan: Plan) -> list[Issue]:
    """A long's stop goes below its entry and its targets above (a short's the other way round)."""
    long = plan.side is Side.LONG
    entry = plan.entry
    errors = []
    if plan.stop == entry:
        errors.append(Issue("zero_risk", f"stop equals entry {fmt_num(entry)}: there is no risk to size "
                                         f"from; put the stop {'below' if long else 'above'} the entry for a "
                                         f"{plan.side}", "stop"))
    elif (plan.stop > entry) == long:
        errors.append(Issue("stop_wrong_side", f"stop {fmt_num(plan.stop)} must be {'below' if long else 'above'} "
                                               f"entry {fmt_num(entry)} for a {plan.side}", "stop"))
    for i, target in enumerate(plan.targets):
        if target == entry or (target > entry) != long:
            errors.append(Issue("target_wrong_side", f"targets[{i}] ({fmt_num(target)}) must be "
                                                     f"{'above' if long else 'below'} entry {fmt_num(entry)} "
                                                     f"for a {plan.side}", f"targets[{i}]"))
    return errors


def _context_warnings(plan: Plan, market: MarketContext) -> list[Issue]:
    warnings = []
    age = market.quote_age_sec
    if market.stale or (age is not None and age > STALE_AFTER_SEC):
        shown = f"{age:.0f}s old" if age is not None else "of unknown age"
        warnings.append(Issue("stale_quote", f"the quote is {shown} (stale after {STALE_AFTER_SEC:.0f}s); "
                                             "the market checks below may be off"))
    if market.market_open is False:
        warnings.append(Issue("market_closed", "the market is closed; the entry cannot fill until it opens"))
    last = market.last
    if last is not None and last > ZERO:
        distance = cents(abs(plan.entry - last) / last * HUNDRED)
        limit = _FAR_FROM_LAST_PCT[plan.instrument]
        if distance > limit:
            warnings.append(Issue("entry_far_from_last", f"entry {fmt_num(plan.entry)} is {fmt_num(distance)}% "
                                                         f"from the last price {fmt_num(last)} (more "
                                                         f"than {fmt_num(limit)}%)", "entry"))
    bid, ask = market.bid, market.ask
    if bid is not None and ask is not None and ask >= bid:
        spread = ask - bid
        if bid <= plan.stop <= ask:
            warnings.append(Issue("stop_inside_spread", f"stop {fmt_num(plan.stop)} is inside the current "
                                                        f"spread {fmt_num(bid)}-{fmt_num(ask)}; "
                                                        "it could trigger on the next quote", "stop"))
        if plan.risk_per_share <= spread:
            warnings.append(Issue("stop_tighter_than_spread", f"risk per share {fmt_num(plan.risk_per_share)} "
                                                              f"is not wider than the {fmt_num(spread)} spread; "
                                                              "normal quote noise can stop you out", "stop"))
    return warnings


def _summary(plan: Plan, *, risk_pct: Decimal, target_r: tuple[Decimal, ...], bands: tuple[RBand, ...],
             reward_risk: Decimal | None, default_rr: Decimal, warnings: Sequence[Issue]) -> str:
    symbol = f" {plan.symbol}" if plan.symbol else ""
    side = "Long" if plan.side is Side.LONG else "Short"
    if plan.instrument is Instrument.OPTION:
        what = f"{side}{symbol} option"
        shown_risk = (f"{fmt_num(plan.risk_per_share)} premium risk, {fmt_num(plan.risk_per_unit)} per contract, "
                      f"{fmt_num(risk_pct)}%")
    else:
        what = f"{side}{symbol}"
        shown_risk = f"{fmt_num(plan.risk_per_share)} risk/share, {fmt_num(risk_pct)}%"
    if reward_risk is None:
        shown_targets = "No target set."
    else:
        shown = ", ".join(f"{fmt_num(target)} is {fmt_num(r)}R" for target, r in zip(plan.targets, target_r,
                                                                                     strict=True))
        shown_targets = (f"{'Target' if len(target_r) == 1 else 'Targets:'} {shown}. Reward:risk "
                         f"{fmt_num(reward_risk)} {'below' if reward_risk < default_rr else 'meets'} "
                         f"the {fmt_num(default_rr)} default.")
    shown_bands = ", ".join(f"{band.r}R {fmt_num(band.price)}" for band in bands)
    watch = f" Watch: {'; '.join(w.code.replace('_', ' ') for w in warnings)}." if warnings else ""
    return (f"{what} at {fmt_num(plan.entry)}, stop {fmt_num(plan.stop)} ({shown_risk}). {shown_targets} "
            f"R bands: {shown_bands}.{watch}")


def _invalid(errors: Sequence[Issue], default_rr: Decimal) -> PlanResult:
    summary = "Plan not valid: " + "; ".join(issue.message for issue in errors) + "."
    return PlanResult(tuple(errors), (), summary, default_rr)


def validate_plan(*, side: object, entry: object, stop: object, targets: Sequence[object] = (),
                  symbol: str | None = None, instrument: object = Instrument.STOCK, default_rr: Decimal,
                  market: MarketContext | None = None, max_stop_pct: Decimal | None = None) -> PlanResult:
    """Check a plan and compute its numbers.

    `default_rr` is the trader's R:R setting; `reward_risk` is the R multiple of the *nearest* target (the
    conservative reading when a plan scales out). `max_stop_pct` defaults per instrument (10% of a stock
    price, 50% of an option premium). R bands at or below zero (a deep short) are left out: unreachable.
    """
    plan = _parse_plan(side, entry, stop, targets, symbol, instrument)
    if isinstance(plan, list):
        return _invalid(plan, default_rr)
    side_errors = _side_errors(plan)
    if side_errors:
        return _invalid(side_errors, default_rr)
    risk = plan.risk_per_share
    target_r = tuple(cents((target - plan.entry) * plan.direction / risk) for target in plan.targets)
    reward_risk = min(target_r, default=None)
    bands = tuple(RBand(r, price) for r in R_MULTIPLES if (price := plan.entry + risk * r * plan.direction) > ZERO)
    risk_pct = cents(risk / plan.entry * HUNDRED)
    warnings = []
    if reward_risk is None:
        warnings.append(Issue("no_target", "no target set: reward:risk cannot be judged", "targets"))
    elif reward_risk < default_rr:
        warnings.append(Issue("rr_below_default", f"reward:risk {fmt_num(reward_risk)} to the nearest target is "
                                                  f"below the {fmt_num(default_rr)} default", "targets"))
    stop_limit = max_stop_pct if max_stop_pct is not None else _MAX_STOP_PCT[plan.instrument]
    if risk_pct > stop_limit:
        warnings.append(Issue("stop_too_wide", f"stop is {fmt_num(risk_pct)}% from entry, wider than "
                                               f"{fmt_num(stop_limit)}%", "stop"))
    if market is not None:
        warnings.extend(_context_warnings(plan, market))
    summary = _summary(plan, risk_pct=risk_pct, target_r=target_r, bands=bands, reward_risk=reward_risk,
                       default_rr=default_rr, warnings=warnings)
    return PlanResult((), tuple(warnings), summary, default_rr, plan, risk, plan.risk_per_unit, risk_pct, target_r,
                      bands, reward_risk)
