"""Plan validation: hand-computed numbers, every bad input by field and code, context warnings, properties."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.market import Quote
from core.domain.plans import (
    Instrument,
    Issue,
    MarketContext,
    PlanResult,
    RBand,
    Side,
    fmt_money,
    fmt_num,
    parse_decimal,
    validate_plan,
)

RR = D(2)


def plan(**kwargs: object) -> PlanResult:
    kwargs.setdefault("default_rr", RR)
    return validate_plan(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "risk", "per_unit", "pct", "target_r", "bands", "rr"),
    [
        # long stock: 0.70 risk; 0.70/190.50 = 0.367%; (192-190.50)/0.70 = 2.142..
        (dict(side="long", entry="190.50", stop="189.80", targets=["192.00"]),
         "0.70", "0.70", "0.37", ["2.14"], ["191.20", "191.90", "192.60"], "2.14"),
        # short stock, two targets: risk 5, 10/5 = 2R, 15/5 = 3R; nearest target gives reward:risk
        (dict(side="short", entry=250, stop=255, targets=[240, 235]),
         "5", "5", "2.00", ["2.00", "3.00"], ["245", "240", "235"], "2.00"),
        # long option: premium risk 0.80 = 80 per contract, 25% of the premium
        (dict(side="long", entry="3.20", stop="2.40", targets=["4.80"], instrument="option"),
         "0.80", "80", "25.00", ["2.00"], ["4.00", "4.80", "5.60"], "2.00"),
        # short option: 3R would be -2, unreachable, so left out
        (dict(side="short", entry=10, stop=14, targets=[8], instrument="option"),
         "4", "400", "40.00", ["0.50"], ["6", "2"], "0.50"),
        # no target: no R multiples and no reward:risk
        (dict(side="LONG", entry=100, stop=99), "1", "1", "1.00", [], ["101", "102", "103"], None),
    ],
)
def test_computed_numbers(kwargs: dict[str, object], risk: str, per_unit: str, pct: str, target_r: list[str],
                          bands: list[str], rr: str | None) -> None:
    result = plan(**kwargs)
    assert result.ok, result.errors
    assert result.risk_per_share == D(risk)
    assert result.risk_per_unit == D(per_unit)
    assert result.risk_pct == D(pct)
    assert result.target_r == tuple(D(r) for r in target_r)
    assert result.r_bands == tuple(RBand(i, D(p)) for i, p in enumerate(bands, start=1))
    assert result.reward_risk == (D(rr) if rr is not None else None)


def test_summary_reads_like_the_spec_example() -> None:
    result = plan(side="long", entry="190.50", stop="189.80", targets=["192.00"], symbol="aapl")
    assert result.summary == ("Long AAPL at 190.50, stop 189.80 (0.70 risk/share, 0.37%). Target 192.00 is 2.14R. "
                              "Reward:risk 2.14 meets the 2.00 default. R bands: 1R 191.20, 2R 191.90, 3R 192.60.")
    assert result.plan is not None and result.plan.symbol == "AAPL" and result.warnings == ()


def test_option_summary_speaks_per_contract() -> None:
    result = plan(side="long", entry="3.20", stop="2.40", targets=["4.00", "4.80"], instrument="option")
    assert result.summary.startswith("Long option at 3.20, stop 2.40 (0.80 premium risk, 80.00 per contract, "
                                     "25.00%). Targets: 4.00 is 1.00R, 4.80 is 2.00R.")
    assert "Reward:risk 1.00 below the 2.00 default." in result.summary


@pytest.mark.parametrize(
    ("kwargs", "codes"),
    [
        (dict(side="long", entry=100, stop=99, targets=[103]), []),
        (dict(side="long", entry=100, stop=99, targets=[101]), ["rr_below_default"]),
        (dict(side="long", entry=100, stop=99), ["no_target"]),
        (dict(side="long", entry=100, stop=85, targets=[150]), ["stop_too_wide"]),
        (dict(side="long", entry=100, stop=90, targets=[150]), []),  # exactly 10%: not wider
        (dict(side="long", entry=100, stop=95, targets=[150], max_stop_pct=D(4)), ["stop_too_wide"]),
        (dict(side="long", entry=4, stop=2, targets=[10], instrument="option"), []),  # 50% premium: allowed
        (dict(side="long", entry=4, stop="1.9", targets=[10], instrument="option"), ["stop_too_wide"]),
    ],
)
def test_plan_warnings(kwargs: dict[str, object], codes: list[str]) -> None:
    result = plan(**kwargs)
    assert result.ok
    assert [w.code for w in result.warnings] == codes


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        (dict(side="long", entry=100, stop=101), "stop", "stop_wrong_side"),
        (dict(side="short", entry=100, stop=99), "stop", "stop_wrong_side"),
        (dict(side="long", entry=100, stop=100), "stop", "zero_risk"),
        (dict(side="long", entry=100, stop=99, targets=[99.5]), "targets[0]", "target_wrong_side"),
        (dict(side="short", entry=100, stop=101, targets=[98, 100]), "targets[1]", "target_wrong_side"),
        (dict(side="long", entry=100, stop=99, targets=[101, 102, 103, 104]), "targets", "too_many_targets"),
        (dict(side="long", entry=0, stop=99), "entry", "out_of_range"),
        (dict(side="long", entry=-5, stop=99), "entry", "out_of_range"),
        (dict(side="long", entry=float("nan"), stop=99), "entry", "not_finite"),
        (dict(side="long", entry="NaN", stop=99), "entry", "not_finite"),
        (dict(side="long", entry=D("sNaN"), stop=99), "entry", "not_finite"),
        (dict(side="long", entry=100, stop=float("inf")), "stop", "not_finite"),
        (dict(side="long", entry="-Infinity", stop=99), "entry", "not_finite"),
        (dict(side="long", entry=1e308, stop=99), "entry", "out_of_range"),
        (dict(side="long", entry="1000000000.01", stop=99), "entry", "out_of_range"),
        (dict(side="long", entry="1,000", stop=99), "entry", "not_a_number"),
        (dict(side="long", entry="1_000", stop=99), "entry", "not_a_number"),
        (dict(side="long", entry="abc", stop=99), "entry", "not_a_number"),
        (dict(side="long", entry=True, stop=99), "entry", "not_a_number"),
        (dict(side="long", entry=[100], stop=99), "entry", "not_a_number"),
        (dict(side="long", entry=None, stop=99), "entry", "missing"),
        (dict(side="long", entry="100.1234567", stop=99), "entry", "too_precise"),
        (dict(side="buy", entry=100, stop=99), "side", "side_invalid"),
        (dict(side="long", entry=100, stop=99, instrument="future"), "instrument", "instrument_invalid"),
        (dict(side="long", entry=100, stop=99, symbol="not a symbol"), "symbol", "symbol_invalid"),
    ],
)
def test_bad_input_names_the_field_and_what_is_valid(kwargs: dict[str, object], field: str, code: str) -> None:
    result = plan(**kwargs)
    assert not result.ok and result.plan is None and result.risk_per_share is None
    assert [(e.field, e.code) for e in result.errors] == [(field, code)]
    error = result.errors[0]
    assert field in error.message
    assert error.message in result.summary and result.summary.startswith("Plan not valid: ")
    assert error.to_dict() == {"code": code, "message": error.message, "field": field}


def test_number_messages_say_the_valid_range() -> None:
    issue = parse_decimal("equity", "-1", low=D(0), high=D(1000))
    assert not isinstance(issue, D)
    assert issue.message == "equity must be a number greater than 0 and at most 1000 (got '-1')"
    assert parse_decimal("x", "  12.5 ", low=D(0), high=D(100)) == D("12.5")
    assert parse_decimal("x", 0.1, low=D(0), high=D(1)) == D("0.1")  # float via repr, not binary expansion
    assert parse_decimal("x", 0, low=D(0), high=D(1), low_inclusive=True) == D(0)
    assert parse_decimal("x", "1.50000000", low=D(0), high=D(2)) == D("1.5")  # trailing zeros are not precision


def test_all_errors_are_reported_together() -> None:
    result = plan(side="up", entry="1,5", stop=float("nan"), targets=[1, 2, 3, "x"])
    assert [e.field for e in result.errors] == ["side", "entry", "stop", "targets[3]", "targets"]


NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("entry", "stop", "market", "codes"),
    [
        (100, 99, MarketContext(last=D(100), bid=D("99.99"), ask=D("100.01"), quote_age_sec=60, market_open=True),
         []),
        (100, 99, MarketContext(quote_age_sec=60.5), ["stale_quote"]),
        (100, 99, MarketContext(stale=True), ["stale_quote"]),
        (100, 99, MarketContext(market_open=False), ["market_closed"]),
        (100, 99, MarketContext(last=D("98.10")), []),  # 1.94% away
        (100, 99, MarketContext(last=D("97.50")), ["entry_far_from_last"]),  # 2.56% away
        (100, 99, MarketContext(last=D("102.50")), ["entry_far_from_last"]),  # 2.44% away
        # the limit is judged on the distance rounded to cents: 2.004% shows as 2.00 (not over), 2.005% as 2.01
        ("102.004", 99, MarketContext(last=D(100)), []),
        ("102.005", 99, MarketContext(last=D(100)), ["entry_far_from_last"]),
        (100, "99.95", MarketContext(bid=D("99.90"), ask=D("100.00")),
         ["stop_inside_spread", "stop_tighter_than_spread"]),
        (100, "99.92", MarketContext(bid=D("99.96"), ask=D("100.06")), ["stop_tighter_than_spread"]),
        (100, "99.85", MarketContext(bid=D("99.95"), ask=D("100.05")), []),
        (100, "99.85", MarketContext(bid=D("100.05"), ask=D("99.95")), []),  # crossed quote: no spread to judge
    ],
)
def test_market_context_warnings(entry: object, stop: object, market: MarketContext, codes: list[str]) -> None:
    result = plan(side="long", entry=entry, stop=stop, targets=[110], market=market)
    assert [w.code for w in result.warnings] == codes
    for code in codes:
        assert code.replace("_", " ") in result.summary


def test_context_from_quote_measures_age() -> None:
    quote = Quote("AAPL", D("190.40"), D("190.39"), D("190.41"), 100, 200, D(189), NOW - timedelta(seconds=90),
                  "polygon")
    context = MarketContext.from_quote(quote, now=NOW, market_open=True)
    assert context == MarketContext(D("190.40"), D("190.39"), D("190.41"), 90.0, False, True)
    result = plan(side="long", entry="190.50", stop="189.80", targets=[192], market=context)
    assert [w.code for w in result.warnings] == ["stale_quote"]
    assert "90s old" in result.warnings[0].message
    untimed = Quote("AAPL", None, None, None, None, None, None, None, "polygon")
    assert MarketContext.from_quote(untimed, now=NOW).stale


def test_formatting_is_exact() -> None:
    assert [fmt_num(D(x)) for x in ("190.5", "0.0523", "1E+2", "12.345678", "0")] == \
        ["190.50", "0.0523", "100.00", "12.345678", "0.00"]
    assert fmt_money(D("-1234.5")) == "-$1,234.50" and fmt_money(D(0)) == "$0.00"
    # signs: -0 is no loss; a loss under half a cent still says it is a loss; half a cent rounds to even
    assert [fmt_money(D(x)) for x in ("-0", "-0.001", "0.005", "0.015", "1234.565", "-1E+3")] == \
        ["$0.00", "-$0.00", "$0.00", "$0.02", "$1,234.56", "-$1,000.00"]


def test_far_from_last_message_shows_the_rounded_distance() -> None:
    result = plan(side="long", entry="102.005", stop=99, targets=[110], market=MarketContext(last=D(100)))
    assert result.warnings[0].message == ("entry 102.005 is 2.01% from the last price 100.00 (more than 2.00%)")


prices = st.decimals(min_value=D("0.05"), max_value=D(5000), places=2)
fractions = st.decimals(min_value=D("0.01"), max_value=D("0.95"), places=2)


@st.composite
def long_plans(draw: st.DrawFn) -> tuple[D, D, list[D]]:
    entry = draw(prices)
    stop = max(D("0.01"), (entry * (1 - draw(fractions))).quantize(D("0.01")))
    if stop >= entry:
        stop = entry - D("0.01")
    targets = draw(st.lists(st.decimals(min_value=entry + D("0.01"), max_value=entry * 4, places=2),
                            max_size=3))
    return entry, stop, targets


@given(long_plans())
def test_r_bands_are_symmetric_between_long_and_mirrored_short(case: tuple[D, D, list[D]]) -> None:
    entry, stop, _ = case
    risk = entry - stop
    long = plan(side="long", entry=entry, stop=stop)
    short = plan(side="short", entry=entry, stop=entry + risk)
    assert [band.price - entry for band in long.r_bands] == [risk * r for r in (1, 2, 3)]
    for band in short.r_bands:
        assert entry - band.price == long.r_bands[band.r - 1].price - entry
    assert [band.r for band in short.r_bands] == [r for r in (1, 2, 3) if entry - risk * r > 0]


@given(long_plans(), st.sampled_from(list(Instrument)), st.sampled_from(["AAPL", "QQQ240621C00450000", None]))
def test_every_number_in_the_summary_is_a_computed_number(case: tuple[D, D, list[D]], instrument: Instrument,
                                                          symbol: str | None) -> None:
    entry, stop, targets = case
    for side, stop_price, target_prices in ((Side.LONG, stop, targets),
                                            (Side.SHORT, 2 * entry - stop, [t for t in targets if t < 2 * entry])):
        short_targets = [2 * entry - t for t in target_prices] if side is Side.SHORT else target_prices
        result = plan(side=side, entry=entry, stop=stop_price, targets=short_targets, instrument=instrument,
                      symbol=symbol)
        assert result.ok, result.errors
        computed = [result.risk_per_share, result.risk_per_unit, result.risk_pct, result.reward_risk, RR,
                    entry, stop_price, *short_targets, *result.target_r,
                    *(band.price for band in result.r_bands)]
        allowed = {fmt_num(v) for v in computed if v is not None} | {str(band.r) for band in result.r_bands}
        shown = re.findall(r"\d+(?:\.\d+)?", result.summary.replace(symbol or "", ""))
        assert shown and set(shown) <= allowed
        assert all(f" {fmt_num(r)}R" in result.summary for r in result.target_r)
        for target, r in zip(short_targets, result.target_r, strict=True):  # R multiple, rounded to 0.01
            assert abs((target - entry) * (1 if side is Side.LONG else -1) / result.risk_per_share - r) <= D("0.005")


_RAW_NUMBERS = (st.text(alphabet="0123456789.,_-+eE naNIfity", max_size=14) | st.integers(-10**13, 10**13)
                | st.floats(allow_nan=True, allow_infinity=True) | st.decimals() | st.booleans() | st.none())


@given(_RAW_NUMBERS, st.booleans(), st.booleans())
def test_parse_decimal_accepts_only_bounded_numbers_and_says_why_otherwise(raw: object, low_inclusive: bool,
                                                                         limit_places: bool) -> None:
    low, high = D(0), D(1_000_000)
    parsed = parse_decimal("x", raw, low, high, low_inclusive=low_inclusive, limit_places=limit_places)
    if isinstance(parsed, D):
        assert not isinstance(raw, bool) and parsed.is_finite()
        assert low < parsed <= high or (low_inclusive and parsed == low)
        assert not limit_places or parsed == parsed.quantize(D("0.000001"))
    else:
        assert isinstance(parsed, Issue) and parsed.field == "x"
        assert parsed.code in {"missing", "not_a_number", "not_finite", "out_of_range", "too_precise"}
