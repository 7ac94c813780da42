"""Sizing: hand-computed cases for every `limited_by`, long and short, stocks and options; bad input; properties."""

from __future__ import annotations

import re
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.plans import Instrument, Side, cents, fmt_money, fmt_num
from core.domain.risk import RiskLimits
from core.domain.sizing import LimitedBy, SizingResult, suggest_size

LIMITS = RiskLimits()  # 1% risk per trade, 25% max position, $25,000 max order notional


def size(**kwargs: object) -> SizingResult:
    kwargs.setdefault("limits", LIMITS)
    return suggest_size(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "quantity", "limited_by", "risk", "notional", "pct", "side"),
    [
        # budget 1% of 100,000 = 1,000; 1,000 // 2.50 = 400 shares; caps: bp 2,000, position 500, notional 500
        (dict(entry=50, stop="47.50", equity=100_000, buying_power=100_000),
         400, LimitedBy.RISK_BUDGET, "1000.00", "20000.00", "20.00", Side.LONG),
        # buying power 10,000 // 50 = 200 shares
        (dict(entry=50, stop="47.50", equity=100_000, buying_power=10_000),
         200, LimitedBy.BUYING_POWER, "500.00", "10000.00", "10.00", Side.LONG),
        # 25% of 10,000 = 2,500 // 190.50 = 13 shares (risk budget would allow 100 // 0.70 = 142)
        (dict(entry="190.50", stop="189.80", equity=10_000, buying_power=40_000),
         13, LimitedBy.MAX_POSITION_PCT, "9.10", "2476.50", "24.77", Side.LONG),
        # max order notional 5,000 // 50 = 100 shares
        (dict(entry=50, stop="47.50", equity=100_000, buying_power=100_000,
              limits=RiskLimits(max_order_notional=D(5000))),
         100, LimitedBy.MAX_ORDER_NOTIONAL, "250.00", "5000.00", "5.00", Side.LONG),
        # short: stop above entry; 1,000 // 2.50 = 400; position cap 25,000 // 47.50 = 526
        (dict(entry="47.50", stop=50, equity=100_000, buying_power=100_000),
         400, LimitedBy.RISK_BUDGET, "1000.00", "19000.00", "19.00", Side.SHORT),
        # long option: budget 250; one contract risks 0.80 x 100 = 80 -> 3 contracts, 3 x 320 = 960
        (dict(entry="3.20", stop="2.40", equity=25_000, buying_power=40_000, instrument="option"),
         3, LimitedBy.RISK_BUDGET, "240.00", "960.00", "3.84", Side.LONG),
        # short option: budget 500; one contract risks 1.00 x 100 -> 5 contracts, 5 x 200 = 1,000
        (dict(entry=2, stop=3, equity=50_000, buying_power=50_000, instrument="option"),
         5, LimitedBy.RISK_BUDGET, "500.00", "1000.00", "2.00", Side.SHORT),
        # option capped by buying power: 1,000 // 320 = 3 contracts although the budget allows 12
        (dict(entry="3.20", stop="2.40", equity=100_000, buying_power=1_000, instrument="option"),
         3, LimitedBy.BUYING_POWER, "240.00", "960.00", "0.96", Side.LONG),
        # tie between the position and notional caps (131 each): the earlier constraint is named
        (dict(entry="190.50", stop="189.80", equity=100_000, buying_power=100_000, confidence="0.7"),
         131, LimitedBy.MAX_POSITION_PCT, "91.70", "24955.50", "24.96", Side.LONG),
    ],
)
def test_hand_computed_sizes(kwargs: dict[str, object], quantity: int, limited_by: LimitedBy, risk: str,
                             notional: str, pct: str, side: Side) -> None:
    result = size(**kwargs)
    assert result.ok and result.sizing is not None
    sizing = result.sizing
    assert (sizing.quantity, sizing.limited_by, sizing.side) == (quantity, limited_by, side)
    assert cents(sizing.risk_amount) == D(risk)
    assert cents(sizing.notional) == D(notional)
    assert sizing.pct_of_equity == D(pct)
    assert f"Limited by {limited_by}" not in result.summary  # words, not codes


@pytest.mark.parametrize(
    ("confidence", "scale", "budget", "quantity"),
    [(None, "1", "1000.00", 400), (1, "1", "1000.00", 400), ("0.5", "0.75", "750.00", 300),
     (0, "0.5", "500.00", 200), (0.333, "0.665", "665.00", 266)],  # 0.333 is shown and used as 0.33
)
def test_confidence_scales_the_budget_between_the_floor_and_one(confidence: object, scale: str, budget: str,
                                                                quantity: int) -> None:
    result = size(entry=50, stop="47.50", equity=100_000, buying_power=100_000, confidence=confidence)
    assert result.sizing is not None
    assert (result.sizing.confidence_scale, result.sizing.risk_budget) == (D(scale), D(budget))
    assert result.sizing.quantity == quantity


def test_summary_names_the_binding_limit_and_the_numbers() -> None:
    result = size(entry="190.50", stop="189.80", equity=10_000, buying_power=40_000, symbol="aapl")
    assert result.summary == (
        "Long 13 shares of AAPL at 190.50, stop 189.80: risk $9.10 of the $100.00 budget (1.00% of $10,000.00 "
        "equity). Notional $2,476.50, 24.77% of equity. Limited by the 25.00% max position size.")
    option = size(entry="3.20", stop="2.40", equity=25_000, buying_power=40_000, instrument="option",
                  confidence="0.5")
    assert "Long 2 contracts at 3.20" in option.summary  # 187.50 budget // 80 = 2
    assert "x 0.75 for confidence 0.50" in option.summary and "Limited by the risk budget." in option.summary


def test_lots_override_and_caps_reported() -> None:
    result = size(entry=50, stop=47, equity=100_000, buying_power=100_000, lot_size=100)
    assert result.sizing is not None and result.sizing.quantity == 300  # 1,000 // 3 = 333 -> 300
    assert dict(result.sizing.caps) == {LimitedBy.RISK_BUDGET: 300, LimitedBy.BUYING_POWER: 2000,
                                        LimitedBy.MAX_POSITION_PCT: 500, LimitedBy.MAX_ORDER_NOTIONAL: 500}
    override = size(entry=50, stop="47.50", equity=100_000, buying_power=100_000, risk_per_trade_pct="0.5")
    assert override.sizing is not None and override.sizing.quantity == 200


def test_unknown_buying_power_is_skipped_and_said() -> None:
    result = size(entry=50, stop="47.50", equity=100_000)
    assert result.sizing is not None and LimitedBy.BUYING_POWER not in dict(result.sizing.caps)
    assert [w.code for w in result.warnings] == ["buying_power_unknown"]


def test_zero_size_explains_why() -> None:
    result = size(entry="3.20", stop="2.40", equity=2_500, buying_power=2_500, instrument=Instrument.OPTION)
    assert result.sizing is not None and result.sizing.quantity == 0
    assert [w.code for w in result.warnings] == ["zero_size"]
    assert result.warnings[0].message == ("the risk budget allows fewer than 1 contract; one contract risks "
                                          "$80.00 and costs $320.00")


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        (dict(confidence="-0.1"), "confidence", "out_of_range"),
        (dict(confidence=1.01), "confidence", "out_of_range"),
        (dict(confidence=float("nan")), "confidence", "not_finite"),
        (dict(equity=0), "equity", "out_of_range"),
        (dict(equity=-100), "equity", "out_of_range"),
        (dict(equity="10,000"), "equity", "not_a_number"),
        (dict(equity=None), "equity", "missing"),
        (dict(risk_per_trade_pct=0), "risk_per_trade_pct", "out_of_range"),
        (dict(risk_per_trade_pct="10.01"), "risk_per_trade_pct", "out_of_range"),
        (dict(buying_power=-1), "buying_power", "out_of_range"),
        (dict(stop=50), "stop", "zero_risk"),
        (dict(entry=float("inf")), "entry", "not_finite"),
        (dict(lot_size=0), "lot_size", "out_of_range"),
        (dict(instrument="bond"), "instrument", "instrument_invalid"),
    ],
)
def test_bad_input(kwargs: dict[str, object], field: str, code: str) -> None:
    base: dict[str, object] = dict(entry=50, stop="47.50", equity=100_000, buying_power=100_000)
    result = size(**(base | kwargs))
    assert result.sizing is None
    assert [(e.field, e.code) for e in result.errors] == [(field, code)]
    assert field in result.errors[0].message and result.summary.startswith("Cannot size: ")


def test_edges_of_the_valid_ranges_are_accepted() -> None:
    for kwargs in (dict(confidence=0), dict(confidence=1), dict(risk_per_trade_pct=10), dict(buying_power=0)):
        base: dict[str, object] = dict(entry=50, stop="47.50", equity=100_000, buying_power=100_000)
        assert size(**(base | kwargs)).ok


money = st.decimals(min_value=D(100), max_value=D(10_000_000), places=2)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, object]:
    entry = draw(st.decimals(min_value=D("0.05"), max_value=D(2000), places=2))
    gap = draw(st.decimals(min_value=D("0.01"), max_value=D("0.9"), places=2))
    risk = max(D("0.01"), cents(entry * gap))
    stop = entry - risk if draw(st.booleans()) and entry - risk > 0 else entry + risk
    limits = RiskLimits(max_position_pct=draw(st.decimals(min_value=D(1), max_value=D(100), places=1)),
                        max_order_notional=draw(money))
    return dict(entry=entry, stop=stop, limits=limits, equity=draw(money),
                buying_power=draw(st.none() | money), confidence=draw(st.none() | st.floats(0, 1)),
                risk_per_trade_pct=draw(st.decimals(min_value=D("0.01"), max_value=D(10), places=2)),
                instrument=draw(st.sampled_from(list(Instrument))), lot_size=draw(st.sampled_from([1, 1, 10, 100])))


@given(requests())
def test_size_never_exceeds_the_budget_or_any_cap_and_is_maximal(request: dict[str, object]) -> None:
    result = size(**request)
    assert result.ok and result.sizing is not None
    s = result.sizing
    limits = request["limits"]
    assert isinstance(limits, RiskLimits)
    unit_cost = s.entry * s.instrument.multiplier
    lot = request["lot_size"]
    assert isinstance(lot, int) and s.quantity % lot == 0
    assert s.quantity * s.risk_per_unit == s.risk_amount <= s.risk_budget
    assert s.risk_budget <= s.equity * s.risk_per_trade_pct / 100
    assert s.notional == s.quantity * unit_cost <= limits.max_order_notional
    assert s.notional <= s.equity * limits.max_position_pct / 100
    if s.buying_power is not None:
        assert s.notional <= s.buying_power
    more = s.quantity + lot  # one more lot would break the named limit
    bound = {LimitedBy.RISK_BUDGET: more * s.risk_per_unit > s.risk_budget,
             LimitedBy.BUYING_POWER: s.buying_power is not None and more * unit_cost > s.buying_power,
             LimitedBy.MAX_POSITION_PCT: more * unit_cost > s.equity * limits.max_position_pct / 100,
             LimitedBy.MAX_ORDER_NOTIONAL: more * unit_cost > limits.max_order_notional}
    assert bound[s.limited_by]
    assert dict(s.caps)[s.limited_by] == s.quantity == min(q for _, q in s.caps)


@given(requests())
def test_every_number_in_the_summary_is_a_computed_number(request: dict[str, object]) -> None:
    result = size(**request)
    s = result.sizing
    assert s is not None
    limits = request["limits"]
    assert isinstance(limits, RiskLimits)
    monies = [s.risk_amount, s.risk_budget, s.equity, s.notional, s.buying_power, limits.max_order_notional]
    numbers = [s.entry, s.stop, s.risk_per_trade_pct, s.pct_of_equity, s.confidence, s.confidence_scale,
               limits.max_position_pct]
    allowed = ({fmt_money(m).lstrip("$") for m in monies if m is not None}
               | {fmt_num(n) for n in numbers if n is not None} | {str(s.quantity)})
    shown = re.findall(r"\d[\d,]*(?:\.\d+)?", result.summary)
    assert shown and set(shown) <= allowed
    assert f"{s.quantity} {s.unit}" in result.summary
