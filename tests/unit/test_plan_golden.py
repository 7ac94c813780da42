"""Golden responses: the exact bytes `POST /plan/validate` and `POST /sizing/suggest` send for a fixed set of
inputs (for a refused input: the 422 error's code, message and details, plus the result's summary the bots
show), pinned so a speed-up of the plan/sizing math can prove it changed nothing a client sees. Also pins
`fmt_num`/`fmt_money` (shared by the risk, alert and coach texts) and the confidence factors.

The bodies are built the way the routers build them (`render_plan`/`render_sizing`, encoded with orjson) from
the domain results, so no server or settings are involved. Regenerate only on a deliberate contract change.
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.routers.plan import render_plan, render_sizing
from core.domain.confidence import freshness, liquidity, plan_quality, score_confidence, trend
from core.domain.plans import MarketContext, Side, fmt_money, fmt_num, validate_plan
from core.domain.risk import RiskLimits
from core.domain.sizing import LimitedBy, suggest_size
from core.services.plans import PlanCheck, SizeCheck, invalid_from_issues

LIMITS = RiskLimits()
LIVE = MarketContext(last=D("190.42"), bid=D("190.41"), ask=D("190.43"), quote_age_sec=2.5, market_open=True)
# Every context warning at once: stale, closed, far from the last price, stop inside and wider than the spread.
TROUBLED = MarketContext(last=D("180"), bid=D("189.70"), ask=D("190.90"), quote_age_sec=75.25, market_open=False)
UNKNOWN_AGE = MarketContext(last=D("0.0"), stale=True)
WIDE_SPREAD = MarketContext(bid=D("190.40"), ask=D("190.60"))

PLANS: dict[str, dict[str, Any]] = {
    "long_stock_two_targets_live": dict(side="long", entry="190.50", stop="189.80", targets=["192.00", "193.40"],
                                        symbol="AAPL", market=LIVE),
    "short_stock_below_default_rr": dict(side="SHORT", entry=50, stop=51.0, targets=[48.5], symbol=" msft "),
    "long_option_one_target": dict(side="long", entry="2.50", stop="2.00", targets=["3.50"], instrument="option",
                                   symbol="SPY"),
    "short_option_no_target": dict(side="short", entry="1.25", stop="1.9", instrument="Option"),
    "long_stock_every_market_warning": dict(side="long", entry="190.00", stop="170.5", targets=["230", "250.125"],
                                            symbol="NVDA", market=TROUBLED),
    "stop_inside_a_wide_spread": dict(side="long", entry="190.50", stop="190.42", targets=["191.1"], symbol="T",
                                      market=WIDE_SPREAD),
    "deep_short_bands_left_out": dict(side="short", entry=10, stop=20, targets=["9.99", "5", "0.000001"],
                                      market=UNKNOWN_AGE),
    "exponent_inputs": dict(side="long", entry="1.9E+2", stop="1.8e2", targets=["2E+2"], max_stop_pct=D("5.5")),
    "tiny_prices": dict(side="long", entry="0.000003", stop="0.000001", targets=[0.000009], default_rr=D("2.5")),
    "stop_and_target_wrong_side": dict(side="long", entry="190.50", stop="191", targets=["192", "190.5", "100"]),
    "zero_risk": dict(side="short", entry="12.30", stop="12.3"),
    "bad_everything": dict(side="up", entry="1,000", stop=float("nan"), targets=[True, "1e308", -1, "x", "2"],
                           symbol="not a symbol!", instrument="future"),
    "missing_and_too_precise": dict(side=None, entry=None, stop="1.0000001", targets=[float("inf")]),
}

SIZINGS: dict[str, dict[str, Any]] = {
    "risk_budget_long": dict(entry=50, stop="47.50", equity=100_000, buying_power=100_000, symbol="AAPL"),
    "buying_power": dict(entry=50, stop="47.50", equity=100_000, buying_power=10_000),
    "max_position_pct_with_confidence": dict(entry="190.50", stop="189.80", equity="100000",
                                             buying_power="200000", confidence=0.72, symbol="AAPL"),
    "max_order_notional": dict(entry=50, stop="47.50", equity=100_000, buying_power=100_000,
                               limits=RiskLimits(max_order_notional=D(5000))),
    "short_stock_risk_pct_override": dict(entry="47.50", stop=50, equity="250000.55", buying_power="1e5",
                                          risk_per_trade_pct="0.5", confidence="1"),
    "long_option": dict(entry="3.20", stop="2.40", equity=25_000, buying_power=40_000, instrument="option",
                        symbol="spy"),
    "short_option_no_buying_power": dict(entry=2, stop=3, equity=50_000, instrument="OPTION", confidence=0),
    "zero_size_in_lots": dict(entry="190.50", stop="150", equity=5_000, buying_power=0, lot_size=100),
    "zero_contracts": dict(entry="30", stop="1", equity=1_000, buying_power=500, instrument="option"),
    "exponent_inputs": dict(entry="1.905E+2", stop="1.898E2", equity="1E+5", buying_power="2.5E4",
                            confidence="0.555"),
    "zero_risk": dict(entry="5", stop="5.00", equity=1_000),
    "bad_everything": dict(entry="-1", stop="abc", equity=0, buying_power=-5, confidence="1.5",
                           risk_per_trade_pct=11, instrument="bond", symbol="$$$", lot_size=0),
}


def _body(result: Any, render: Any, check: Any, what: str) -> bytes:
    if result.ok:
        return orjson.dumps(render(check))
    error = invalid_from_issues(result.errors, what)
    return orjson.dumps({"code": error.code, "message": error.message, "details": error.details,
                         "summary": result.summary})


def plan_body(kwargs: dict[str, Any]) -> bytes:
    kwargs = {"default_rr": LIMITS.default_rr, **kwargs}
    result = validate_plan(**kwargs)
    market = kwargs.get("market")
    check = PlanCheck(result, market, "polygon" if market else None, ("a note",) if market else ())
    return _body(result, render_plan, check, "plan")


def sizing_body(kwargs: dict[str, Any]) -> bytes:
    result = suggest_size(**{"limits": LIMITS, **kwargs})
    return _body(result, render_sizing, SizeCheck(result, {"source": "request"}), "sizing")


@pytest.mark.parametrize("name", PLANS)
def test_plan_response_bytes_are_pinned(name: str) -> None:
    assert plan_body(PLANS[name]) == GOLDEN[f"plan/{name}"]


@pytest.mark.parametrize("name", SIZINGS)
def test_sizing_response_bytes_are_pinned(name: str) -> None:
    assert sizing_body(SIZINGS[name]) == GOLDEN[f"sizing/{name}"]


def test_goldens_cover_every_limit_side_and_instrument() -> None:
    bodies = [orjson.loads(GOLDEN[f"sizing/{name}"]) for name in SIZINGS]
    assert {b.get("limited_by") for b in bodies} >= {limit.value for limit in LimitedBy}
    assert {(b.get("side"), b.get("instrument")) for b in bodies} >= {
        (side.value, kind) for side in Side for kind in ("stock", "option")}
    plans = [orjson.loads(GOLDEN[f"plan/{name}"]) for name in PLANS]
    assert {(p["plan"]["side"], p["plan"]["instrument"]) for p in plans if "plan" in p} == {
        (side.value, kind) for side in Side for kind in ("stock", "option")}
    assert sum("details" in p for p in plans) == 4 and sum("details" in b for b in bodies) == 2


def test_confidence_factors_are_pinned() -> None:
    plans = [validate_plan(**{"default_rr": LIMITS.default_rr, **PLANS[name]}) for name in PLANS]
    factors = [plan_quality(p) for p in plans] + [
        freshness(2.5), freshness(None), freshness(130.4),
        liquidity(D("190.41"), D("190.43")), liquidity(D("1.05"), D("1.35"), max_spread_bps=1000),
        trend(Side.LONG, D("190.42"), D("189.9")), trend(Side.SHORT, D("190.42"), D("190.42"), label="EMA 20"),
        trend(Side.SHORT, D("191"), D("190.5"))]
    assert orjson.dumps(score_confidence(factors)) == GOLDEN["confidence"]


@pytest.mark.parametrize(("value", "shown"), [
    ("190.5", "190.50"), ("190", "190.00"), ("0.0523", "0.0523"), ("-1.5", "-1.50"), ("0", "0.00"),
    ("-0", "-0.00"), ("0E-7", "0.00"), ("1E+3", "1000.00"), ("1.5E-7", "0.00000015"), ("12.3400", "12.34"),
    ("123456789.123456", "123456789.123456"), ("1E+12", "1000000000000.00"), ("-0.000001", "-0.000001"),
    ("5", "5.00"), ("-5", "-5.00"), ("42", "42.00"), ("0.860", "0.86"), ("0.5", "0.50"),
])
def test_fmt_num_is_pinned(value: str, shown: str) -> None:
    assert fmt_num(D(value)) == shown


@pytest.mark.parametrize(("value", "shown"), [
    ("1234.5", "$1,234.50"), ("-1234.5", "-$1,234.50"), ("0", "$0.00"), ("-0", "$0.00"), ("-0.004", "-$0.00"),
    ("0.125", "$0.12"), ("0.135", "$0.14"), ("1E+6", "$1,000,000.00"), ("-999999.995", "-$1,000,000.00"),
])
def test_fmt_money_is_pinned(value: str, shown: str) -> None:
    assert fmt_money(D(value)) == shown


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-10**15, max_value=10**15, places=8)
       | st.decimals(allow_nan=False, allow_infinity=False, min_value=-10**6, max_value=10**6))
def test_fmt_num_is_exact_plain_and_at_least_two_decimals(value: D) -> None:
    shown = fmt_num(value)
    whole, _, decimals = shown.partition(".")
    assert D(shown) == value and "E" not in shown and "," not in shown
    assert len(decimals) >= 2 and (len(decimals) == 2 or not decimals.endswith("0"))
    assert whole.lstrip("-").isdigit()


GOLDEN: dict[str, bytes] = {
    'plan/long_stock_two_targets_live': (
        b'{"ok":true,"plan":{"symbol":"AAPL","side":"long","instrument":"stock","entry":"190.50","stop":"189.8'
        b'0","targets":["192.00","193.40"]},"risk_per_share":"0.70","risk_per_unit":"0.70","risk_pct":"0.37","'
        b'targets":[{"price":"192.00","r":"2.14"},{"price":"193.40","r":"4.14"}],"r_bands":[{"r":1,"price":"19'
        b'1.20"},{"r":2,"price":"191.90"},{"r":3,"price":"192.60"}],"reward_risk":"2.14","default_rr":"2","err'
        b'ors":[],"warnings":[],"summary":"Long AAPL at 190.50, stop 189.80 (0.70 risk/share, 0.37%). Targets:'
        b' 192.00 is 2.14R, 193.40 is 4.14R. Reward:risk 2.14 meets the 2.00 default. R bands: 1R 191.20, 2R 1'
        b'91.90, 3R 192.60.","market":{"last":"190.42","bid":"190.41","ask":"190.43","quote_age_sec":2.5,"stal'
        b'e":false,"market_open":true,"source":"polygon"},"notes":["a note"]}'
    ),
    'plan/short_stock_below_default_rr': (
        b'{"ok":true,"plan":{"symbol":"MSFT","side":"short","instrument":"stock","entry":"50","stop":"51.0","t'
        b'argets":["48.5"]},"risk_per_share":"1.0","risk_per_unit":"1.0","risk_pct":"2.00","targets":[{"price"'
        b':"48.5","r":"1.50"}],"r_bands":[{"r":1,"price":"49.0"},{"r":2,"price":"48.0"},{"r":3,"price":"47.0"}'
        b'],"reward_risk":"1.50","default_rr":"2","errors":[],"warnings":[{"code":"rr_below_default","message"'
        b':"reward:risk 1.50 to the nearest target is below the 2.00 default","field":"targets"}],"summary":"S'
        b'hort MSFT at 50.00, stop 51.00 (1.00 risk/share, 2.00%). Target 48.50 is 1.50R. Reward:risk 1.50 bel'
        b'ow the 2.00 default. R bands: 1R 49.00, 2R 48.00, 3R 47.00. Watch: rr below default.","market":null,'
        b'"notes":[]}'
    ),
    'plan/long_option_one_target': (
        b'{"ok":true,"plan":{"symbol":"SPY","side":"long","instrument":"option","entry":"2.50","stop":"2.00","'
        b'targets":["3.50"]},"risk_per_share":"0.50","risk_per_unit":"50.00","risk_pct":"20.00","targets":[{"p'
        b'rice":"3.50","r":"2.00"}],"r_bands":[{"r":1,"price":"3.00"},{"r":2,"price":"3.50"},{"r":3,"price":"4'
        b'.00"}],"reward_risk":"2.00","default_rr":"2","errors":[],"warnings":[],"summary":"Long SPY option at'
        b' 2.50, stop 2.00 (0.50 premium risk, 50.00 per contract, 20.00%). Target 3.50 is 2.00R. Reward:risk '
        b'2.00 meets the 2.00 default. R bands: 1R 3.00, 2R 3.50, 3R 4.00.","market":null,"notes":[]}'
    ),
    'plan/short_option_no_target': (
        b'{"ok":true,"plan":{"symbol":null,"side":"short","instrument":"option","entry":"1.25","stop":"1.9","t'
        b'argets":[]},"risk_per_share":"0.65","risk_per_unit":"65.00","risk_pct":"52.00","targets":[],"r_bands'
        b'":[{"r":1,"price":"0.60"}],"reward_risk":null,"default_rr":"2","errors":[],"warnings":[{"code":"no_t'
        b'arget","message":"no target set: reward:risk cannot be judged","field":"targets"},{"code":"stop_too_'
        b'wide","message":"stop is 52.00% from entry, wider than 50.00%","field":"stop"}],"summary":"Short opt'
        b'ion at 1.25, stop 1.90 (0.65 premium risk, 65.00 per contract, 52.00%). No target set. R bands: 1R 0'
        b'.60. Watch: no target; stop too wide.","market":null,"notes":[]}'
    ),
    'plan/long_stock_every_market_warning': (
        b'{"ok":true,"plan":{"symbol":"NVDA","side":"long","instrument":"stock","entry":"190.00","stop":"170.5'
        b'","targets":["230","250.125"]},"risk_per_share":"19.50","risk_per_unit":"19.50","risk_pct":"10.26","'
        b'targets":[{"price":"230","r":"2.05"},{"price":"250.125","r":"3.08"}],"r_bands":[{"r":1,"price":"209.'
        b'50"},{"r":2,"price":"229.00"},{"r":3,"price":"248.50"}],"reward_risk":"2.05","default_rr":"2","error'
        b's":[],"warnings":[{"code":"stop_too_wide","message":"stop is 10.26% from entry, wider than 10.00%","'
        b'field":"stop"},{"code":"stale_quote","message":"the quote is 75s old (stale after 60s); the market c'
        b'hecks below may be off","field":null},{"code":"market_closed","message":"the market is closed; the e'
        b'ntry cannot fill until it opens","field":null},{"code":"entry_far_from_last","message":"entry 190.00'
        b' is 5.56% from the last price 180.00 (more than 2.00%)","field":"entry"}],"summary":"Long NVDA at 19'
        b'0.00, stop 170.50 (19.50 risk/share, 10.26%). Targets: 230.00 is 2.05R, 250.125 is 3.08R. Reward:ris'
        b'k 2.05 meets the 2.00 default. R bands: 1R 209.50, 2R 229.00, 3R 248.50. Watch: stop too wide; stale'
        b' quote; market closed; entry far from last.","market":{"last":"180","bid":"189.70","ask":"190.90","q'
        b'uote_age_sec":75.25,"stale":false,"market_open":false,"source":"polygon"},"notes":["a note"]}'
    ),
    'plan/stop_inside_a_wide_spread': (
        b'{"ok":true,"plan":{"symbol":"T","side":"long","instrument":"stock","entry":"190.50","stop":"190.42",'
        b'"targets":["191.1"]},"risk_per_share":"0.08","risk_per_unit":"0.08","risk_pct":"0.04","targets":[{"p'
        b'rice":"191.1","r":"7.50"}],"r_bands":[{"r":1,"price":"190.58"},{"r":2,"price":"190.66"},{"r":3,"pric'
        b'e":"190.74"}],"reward_risk":"7.50","default_rr":"2","errors":[],"warnings":[{"code":"stop_inside_spr'
        b'ead","message":"stop 190.42 is inside the current spread 190.40-190.60; it could trigger on the next'
        b' quote","field":"stop"},{"code":"stop_tighter_than_spread","message":"risk per share 0.08 is not wid'
        b'er than the 0.20 spread; normal quote noise can stop you out","field":"stop"}],"summary":"Long T at '
        b'190.50, stop 190.42 (0.08 risk/share, 0.04%). Target 191.10 is 7.50R. Reward:risk 7.50 meets the 2.0'
        b'0 default. R bands: 1R 190.58, 2R 190.66, 3R 190.74. Watch: stop inside spread; stop tighter than sp'
        b'read.","market":{"last":null,"bid":"190.40","ask":"190.60","quote_age_sec":null,"stale":false,"marke'
        b't_open":null,"source":"polygon"},"notes":["a note"]}'
    ),
    'plan/deep_short_bands_left_out': (
        b'{"ok":true,"plan":{"symbol":null,"side":"short","instrument":"stock","entry":"10","stop":"20","targe'
        b'ts":["9.99","5","0.000001"]},"risk_per_share":"10","risk_per_unit":"10","risk_pct":"100.00","targets'
        b'":[{"price":"9.99","r":"0.00"},{"price":"5","r":"0.50"},{"price":"0.000001","r":"1.00"}],"r_bands":['
        b'],"reward_risk":"0.00","default_rr":"2","errors":[],"warnings":[{"code":"rr_below_default","message"'
        b':"reward:risk 0.00 to the nearest target is below the 2.00 default","field":"targets"},{"code":"stop'
        b'_too_wide","message":"stop is 100.00% from entry, wider than 10.00%","field":"stop"},{"code":"stale_'
        b'quote","message":"the quote is of unknown age (stale after 60s); the market checks below may be off"'
        b',"field":null}],"summary":"Short at 10.00, stop 20.00 (10.00 risk/share, 100.00%). Targets: 9.99 is '
        b'0.00R, 5.00 is 0.50R, 0.000001 is 1.00R. Reward:risk 0.00 below the 2.00 default. R bands: . Watch: '
        b'rr below default; stop too wide; stale quote.","market":{"last":"0.0","bid":null,"ask":null,"quote_a'
        b'ge_sec":null,"stale":true,"market_open":null,"source":"polygon"},"notes":["a note"]}'
    ),
    'plan/exponent_inputs': (
        b'{"ok":true,"plan":{"symbol":null,"side":"long","instrument":"stock","entry":"190","stop":"180","targ'
        b'ets":["200"]},"risk_per_share":"10","risk_per_unit":"10","risk_pct":"5.26","targets":[{"price":"200"'
        b',"r":"1.00"}],"r_bands":[{"r":1,"price":"200"},{"r":2,"price":"210"},{"r":3,"price":"220"}],"reward_'
        b'risk":"1.00","default_rr":"2","errors":[],"warnings":[{"code":"rr_below_default","message":"reward:r'
        b'isk 1.00 to the nearest target is below the 2.00 default","field":"targets"}],"summary":"Long at 190'
        b'.00, stop 180.00 (10.00 risk/share, 5.26%). Target 200.00 is 1.00R. Reward:risk 1.00 below the 2.00 '
        b'default. R bands: 1R 200.00, 2R 210.00, 3R 220.00. Watch: rr below default.","market":null,"notes":['
        b']}'
    ),
    'plan/tiny_prices': (
        b'{"ok":true,"plan":{"symbol":null,"side":"long","instrument":"stock","entry":"0.000003","stop":"0.000'
        b'001","targets":["0.000009"]},"risk_per_share":"0.000002","risk_per_unit":"0.000002","risk_pct":"66.6'
        b'7","targets":[{"price":"0.000009","r":"3.00"}],"r_bands":[{"r":1,"price":"0.000005"},{"r":2,"price":'
        b'"0.000007"},{"r":3,"price":"0.000009"}],"reward_risk":"3.00","default_rr":"2.5","errors":[],"warning'
        b's":[{"code":"stop_too_wide","message":"stop is 66.67% from entry, wider than 10.00%","field":"stop"}'
        b'],"summary":"Long at 0.000003, stop 0.000001 (0.000002 risk/share, 66.67%). Target 0.000009 is 3.00R'
        b'. Reward:risk 3.00 meets the 2.50 default. R bands: 1R 0.000005, 2R 0.000007, 3R 0.000009. Watch: st'
        b'op too wide.","market":null,"notes":[]}'
    ),
    'plan/stop_and_target_wrong_side': (
        b'{"code":"invalid","message":"plan not valid: stop 191.00 must be below entry 190.50 for a long; targ'
        b'ets[1] (190.50) must be above entry 190.50 for a long; targets[2] (100.00) must be above entry 190.5'
        b'0 for a long","details":[{"field":"stop","message":"stop 191.00 must be below entry 190.50 for a lon'
        b'g","code":"stop_wrong_side"},{"field":"targets[1]","message":"targets[1] (190.50) must be above entr'
        b'y 190.50 for a long","code":"target_wrong_side"},{"field":"targets[2]","message":"targets[2] (100.00'
        b') must be above entry 190.50 for a long","code":"target_wrong_side"}],"summary":"Plan not valid: sto'
        b'p 191.00 must be below entry 190.50 for a long; targets[1] (190.50) must be above entry 190.50 for a'
        b' long; targets[2] (100.00) must be above entry 190.50 for a long."}'
    ),
    'plan/zero_risk': (
        b'{"code":"invalid","message":"plan not valid: stop equals entry 12.30: there is no risk to size from;'
        b' put the stop above the entry for a short","details":[{"field":"stop","message":"stop equals entry 1'
        b'2.30: there is no risk to size from; put the stop above the entry for a short","code":"zero_risk"}],'
        b'"summary":"Plan not valid: stop equals entry 12.30: there is no risk to size from; put the stop abov'
        b'e the entry for a short."}'
    ),
    'plan/bad_everything': (
        b'{"code":"invalid","message":"plan not valid: side must be \'long\' or \'short\' (got \'up\'); instrument m'
        b"ust be 'stock' or 'option' (got 'future'); 'NOT A SYMBOL!' is not a valid symbol: use 1-10 letters/d"
        b'igits starting with a letter, optionally a class suffix like BRK.B, or an OCC option symbol like AAP'
        b'L240621C00190000; entry must be a number greater than 0 and at most 1000000000, written without sepa'
        b"rators like 1234.50 (got '1,000'); stop must be a number greater than 0 and at most 1000000000; NaN "
        b'and Infinity are not numbers (got nan); targets[0] must be a number greater than 0 and at most 10000'
        b"00000 (got True); targets[1] must be a number greater than 0 and at most 1000000000 (got '1e308'); t"
        b'argets[2] must be a number greater than 0 and at most 1000000000 (got -1); targets[3] must be a numb'
        b'er greater than 0 and at most 1000000000 (got \'x\'); targets may list at most 3 prices (got 5)","deta'
        b'ils":[{"field":"side","message":"side must be \'long\' or \'short\' (got \'up\')","code":"side_invalid"},{'
        b'"field":"instrument","message":"instrument must be \'stock\' or \'option\' (got \'future\')","code":"instr'
        b'ument_invalid"},{"field":"symbol","message":"\'NOT A SYMBOL!\' is not a valid symbol: use 1-10 letters'
        b'/digits starting with a letter, optionally a class suffix like BRK.B, or an OCC option symbol like A'
        b'APL240621C00190000","code":"symbol_invalid"},{"field":"entry","message":"entry must be a number grea'
        b'ter than 0 and at most 1000000000, written without separators like 1234.50 (got \'1,000\')","code":"no'
        b't_a_number"},{"field":"stop","message":"stop must be a number greater than 0 and at most 1000000000;'
        b' NaN and Infinity are not numbers (got nan)","code":"not_finite"},{"field":"targets[0]","message":"t'
        b'argets[0] must be a number greater than 0 and at most 1000000000 (got True)","code":"not_a_number"},'
        b'{"field":"targets[1]","message":"targets[1] must be a number greater than 0 and at most 1000000000 ('
        b'got \'1e308\')","code":"out_of_range"},{"field":"targets[2]","message":"targets[2] must be a number gr'
        b'eater than 0 and at most 1000000000 (got -1)","code":"out_of_range"},{"field":"targets[3]","message"'
        b':"targets[3] must be a number greater than 0 and at most 1000000000 (got \'x\')","code":"not_a_number"'
        b'},{"field":"targets","message":"targets may list at most 3 prices (got 5)","code":"too_many_targets"'
        b'}],"summary":"Plan not valid: side must be \'long\' or \'short\' (got \'up\'); instrument must be \'stock\' '
        b"or 'option' (got 'future'); 'NOT A SYMBOL!' is not a valid symbol: use 1-10 letters/digits starting "
        b'with a letter, optionally a class suffix like BRK.B, or an OCC option symbol like AAPL240621C0019000'
        b'0; entry must be a number greater than 0 and at most 1000000000, written without separators like 123'
        b"4.50 (got '1,000'); stop must be a number greater than 0 and at most 1000000000; NaN and Infinity ar"
        b'e not numbers (got nan); targets[0] must be a number greater than 0 and at most 1000000000 (got True'
        b"); targets[1] must be a number greater than 0 and at most 1000000000 (got '1e308'); targets[2] must "
        b'be a number greater than 0 and at most 1000000000 (got -1); targets[3] must be a number greater than'
        b' 0 and at most 1000000000 (got \'x\'); targets may list at most 3 prices (got 5)."}'
    ),
    'plan/missing_and_too_precise': (
        b'{"code":"invalid","message":"plan not valid: side must be \'long\' or \'short\' (got None); entry is mis'
        b'sing; it must be a number greater than 0 and at most 1000000000; stop may have at most 6 decimals (g'
        b"ot '1.0000001'); targets[0] must be a number greater than 0 and at most 1000000000; NaN and Infinity"
        b' are not numbers (got inf)","details":[{"field":"side","message":"side must be \'long\' or \'short\' (go'
        b't None)","code":"side_invalid"},{"field":"entry","message":"entry is missing; it must be a number gr'
        b'eater than 0 and at most 1000000000","code":"missing"},{"field":"stop","message":"stop may have at m'
        b'ost 6 decimals (got \'1.0000001\')","code":"too_precise"},{"field":"targets[0]","message":"targets[0] '
        b'must be a number greater than 0 and at most 1000000000; NaN and Infinity are not numbers (got inf)",'
        b'"code":"not_finite"}],"summary":"Plan not valid: side must be \'long\' or \'short\' (got None); entry is'
        b' missing; it must be a number greater than 0 and at most 1000000000; stop may have at most 6 decimal'
        b"s (got '1.0000001'); targets[0] must be a number greater than 0 and at most 1000000000; NaN and Infi"
        b'nity are not numbers (got inf)."}'
    ),
    'sizing/risk_budget_long': (
        b'{"ok":true,"side":"long","instrument":"stock","symbol":"AAPL","entry":"50","stop":"47.50","quantity"'
        b':400,"unit":"shares","shares":400,"risk_per_unit":"2.50","risk_budget":"1000.00","risk_amount":"1000'
        b'.00","notional":"20000","pct_of_equity":"20.00","risk_pct_of_equity":"1.00","equity":"100000","buyin'
        b'g_power":"100000","risk_per_trade_pct":"1","confidence":null,"confidence_scale":"1","limited_by":"ri'
        b'sk_budget","caps":[{"name":"risk_budget","quantity":400},{"name":"buying_power","quantity":2000},{"n'
        b'ame":"max_position_pct","quantity":500},{"name":"max_order_notional","quantity":500}],"account":{"so'
        b'urce":"request"},"warnings":[],"summary":"Long 400 shares of AAPL at 50.00, stop 47.50: risk $1,000.'
        b'00 of the $1,000.00 budget (1.00% of $100,000.00 equity). Notional $20,000.00, 20.00% of equity. Lim'
        b'ited by the risk budget."}'
    ),
    'sizing/buying_power': (
        b'{"ok":true,"side":"long","instrument":"stock","symbol":null,"entry":"50","stop":"47.50","quantity":2'
        b'00,"unit":"shares","shares":200,"risk_per_unit":"2.50","risk_budget":"1000.00","risk_amount":"500.00'
        b'","notional":"10000","pct_of_equity":"10.00","risk_pct_of_equity":"0.50","equity":"100000","buying_p'
        b'ower":"10000","risk_per_trade_pct":"1","confidence":null,"confidence_scale":"1","limited_by":"buying'
        b'_power","caps":[{"name":"risk_budget","quantity":400},{"name":"buying_power","quantity":200},{"name"'
        b':"max_position_pct","quantity":500},{"name":"max_order_notional","quantity":500}],"account":{"source'
        b'":"request"},"warnings":[],"summary":"Long 200 shares at 50.00, stop 47.50: risk $500.00 of the $1,0'
        b'00.00 budget (1.00% of $100,000.00 equity). Notional $10,000.00, 10.00% of equity. Limited by the $1'
        b'0,000.00 buying power."}'
    ),
    'sizing/max_position_pct_with_confidence': (
        b'{"ok":true,"side":"long","instrument":"stock","symbol":"AAPL","entry":"190.50","stop":"189.80","quan'
        b'tity":131,"unit":"shares","shares":131,"risk_per_unit":"0.70","risk_budget":"860.00","risk_amount":"'
        b'91.70","notional":"24955.50","pct_of_equity":"24.96","risk_pct_of_equity":"0.09","equity":"100000","'
        b'buying_power":"200000","risk_per_trade_pct":"1","confidence":"0.72","confidence_scale":"0.860","limi'
        b'ted_by":"max_position_pct","caps":[{"name":"risk_budget","quantity":1228},{"name":"buying_power","qu'
        b'antity":1049},{"name":"max_position_pct","quantity":131},{"name":"max_order_notional","quantity":131'
        b'}],"account":{"source":"request"},"warnings":[],"summary":"Long 131 shares of AAPL at 190.50, stop 1'
        b'89.80: risk $91.70 of the $860.00 budget (1.00% of $100,000.00 equity x 0.86 for confidence 0.72). N'
        b'otional $24,955.50, 24.96% of equity. Limited by the 25.00% max position size."}'
    ),
    'sizing/max_order_notional': (
        b'{"ok":true,"side":"long","instrument":"stock","symbol":null,"entry":"50","stop":"47.50","quantity":1'
        b'00,"unit":"shares","shares":100,"risk_per_unit":"2.50","risk_budget":"1000.00","risk_amount":"250.00'
        b'","notional":"5000","pct_of_equity":"5.00","risk_pct_of_equity":"0.25","equity":"100000","buying_pow'
        b'er":"100000","risk_per_trade_pct":"1","confidence":null,"confidence_scale":"1","limited_by":"max_ord'
        b'er_notional","caps":[{"name":"risk_budget","quantity":400},{"name":"buying_power","quantity":2000},{'
        b'"name":"max_position_pct","quantity":500},{"name":"max_order_notional","quantity":100}],"account":{"'
        b'source":"request"},"warnings":[],"summary":"Long 100 shares at 50.00, stop 47.50: risk $250.00 of th'
        b'e $1,000.00 budget (1.00% of $100,000.00 equity). Notional $5,000.00, 5.00% of equity. Limited by th'
        b'e $5,000.00 max order notional."}'
    ),
    'sizing/short_stock_risk_pct_override': (
        b'{"ok":true,"side":"short","instrument":"stock","symbol":null,"entry":"47.50","stop":"50","quantity":'
        b'500,"unit":"shares","shares":500,"risk_per_unit":"2.50","risk_budget":"1250.00","risk_amount":"1250.'
        b'00","notional":"23750.00","pct_of_equity":"9.50","risk_pct_of_equity":"0.50","equity":"250000.55","b'
        b'uying_power":"100000","risk_per_trade_pct":"0.5","confidence":"1.00","confidence_scale":"1.000","lim'
        b'ited_by":"risk_budget","caps":[{"name":"risk_budget","quantity":500},{"name":"buying_power","quantit'
        b'y":2105},{"name":"max_position_pct","quantity":1315},{"name":"max_order_notional","quantity":526}],"'
        b'account":{"source":"request"},"warnings":[],"summary":"Short 500 shares at 47.50, stop 50.00: risk $'
        b'1,250.00 of the $1,250.00 budget (0.50% of $250,000.55 equity x 1.00 for confidence 1.00). Notional '
        b'$23,750.00, 9.50% of equity. Limited by the risk budget."}'
    ),
    'sizing/long_option': (
        b'{"ok":true,"side":"long","instrument":"option","symbol":"SPY","entry":"3.20","stop":"2.40","quantity'
        b'":3,"unit":"contracts","contracts":3,"risk_per_unit":"80.00","risk_budget":"250.00","risk_amount":"2'
        b'40.00","notional":"960.00","pct_of_equity":"3.84","risk_pct_of_equity":"0.96","equity":"25000","buyi'
        b'ng_power":"40000","risk_per_trade_pct":"1","confidence":null,"confidence_scale":"1","limited_by":"ri'
        b'sk_budget","caps":[{"name":"risk_budget","quantity":3},{"name":"buying_power","quantity":125},{"name'
        b'":"max_position_pct","quantity":19},{"name":"max_order_notional","quantity":78}],"account":{"source"'
        b':"request"},"warnings":[],"summary":"Long 3 contracts of SPY at 3.20, stop 2.40: risk $240.00 of the'
        b' $250.00 budget (1.00% of $25,000.00 equity). Notional $960.00, 3.84% of equity. Limited by the risk'
        b' budget."}'
    ),
    'sizing/short_option_no_buying_power': (
        b'{"ok":true,"side":"short","instrument":"option","symbol":null,"entry":"2","stop":"3","quantity":2,"u'
        b'nit":"contracts","contracts":2,"risk_per_unit":"100","risk_budget":"250.00","risk_amount":"200","not'
        b'ional":"400","pct_of_equity":"0.80","risk_pct_of_equity":"0.40","equity":"50000","buying_power":null'
        b',"risk_per_trade_pct":"1","confidence":"0.00","confidence_scale":"0.500","limited_by":"risk_budget",'
        b'"caps":[{"name":"risk_budget","quantity":2},{"name":"max_position_pct","quantity":62},{"name":"max_o'
        b'rder_notional","quantity":125}],"account":{"source":"request"},"warnings":[{"code":"buying_power_unk'
        b'nown","message":"buying power is unknown, so it was not checked","field":"buying_power"}],"summary":'
        b'"Short 2 contracts at 2.00, stop 3.00: risk $200.00 of the $250.00 budget (1.00% of $50,000.00 equit'
        b'y x 0.50 for confidence 0.00). Notional $400.00, 0.80% of equity. Limited by the risk budget."}'
    ),
    'sizing/zero_size_in_lots': (
        b'{"ok":true,"side":"long","instrument":"stock","symbol":null,"entry":"190.50","stop":"150","quantity"'
        b':0,"unit":"shares","shares":0,"risk_per_unit":"40.50","risk_budget":"50.00","risk_amount":"0.00","no'
        b'tional":"0.00","pct_of_equity":"0.00","risk_pct_of_equity":"0.00","equity":"5000","buying_power":"0"'
        b',"risk_per_trade_pct":"1","confidence":null,"confidence_scale":"1","limited_by":"risk_budget","caps"'
        b':[{"name":"risk_budget","quantity":0},{"name":"buying_power","quantity":0},{"name":"max_position_pct'
        b'","quantity":0},{"name":"max_order_notional","quantity":100}],"account":{"source":"request"},"warnin'
        b'gs":[{"code":"zero_size","message":"the risk budget allows fewer than 100 shares; one share risks $4'
        b'0.50 and costs $190.50","field":null}],"summary":"Long 0 shares at 190.50, stop 150.00: risk $0.00 o'
        b'f the $50.00 budget (1.00% of $5,000.00 equity). Notional $0.00, 0.00% of equity. Limited by the ris'
        b'k budget."}'
    ),
    'sizing/zero_contracts': (
        b'{"ok":true,"side":"long","instrument":"option","symbol":null,"entry":"30","stop":"1","quantity":0,"u'
        b'nit":"contracts","contracts":0,"risk_per_unit":"2900","risk_budget":"10.00","risk_amount":"0","notio'
        b'nal":"0","pct_of_equity":"0.00","risk_pct_of_equity":"0.00","equity":"1000","buying_power":"500","ri'
        b'sk_per_trade_pct":"1","confidence":null,"confidence_scale":"1","limited_by":"risk_budget","caps":[{"'
        b'name":"risk_budget","quantity":0},{"name":"buying_power","quantity":0},{"name":"max_position_pct","q'
        b'uantity":0},{"name":"max_order_notional","quantity":8}],"account":{"source":"request"},"warnings":[{'
        b'"code":"zero_size","message":"the risk budget allows fewer than 1 contract; one contract risks $2,90'
        b'0.00 and costs $3,000.00","field":null}],"summary":"Long 0 contracts at 30.00, stop 1.00: risk $0.00'
        b' of the $10.00 budget (1.00% of $1,000.00 equity). Notional $0.00, 0.00% of equity. Limited by the r'
        b'isk budget."}'
    ),
    'sizing/exponent_inputs': (
        b'{"ok":true,"side":"long","instrument":"stock","symbol":null,"entry":"190.5","stop":"189.8","quantity'
        b'":131,"unit":"shares","shares":131,"risk_per_unit":"0.7","risk_budget":"780.00","risk_amount":"91.7"'
        b',"notional":"24955.5","pct_of_equity":"24.96","risk_pct_of_equity":"0.09","equity":"100000","buying_'
        b'power":"25000","risk_per_trade_pct":"1","confidence":"0.56","confidence_scale":"0.780","limited_by":'
        b'"buying_power","caps":[{"name":"risk_budget","quantity":1114},{"name":"buying_power","quantity":131}'
        b',{"name":"max_position_pct","quantity":131},{"name":"max_order_notional","quantity":131}],"account":'
        b'{"source":"request"},"warnings":[],"summary":"Long 131 shares at 190.50, stop 189.80: risk $91.70 of'
        b' the $780.00 budget (1.00% of $100,000.00 equity x 0.78 for confidence 0.56). Notional $24,955.50, 2'
        b'4.96% of equity. Limited by the $25,000.00 buying power."}'
    ),
    'sizing/zero_risk': (
        b'{"code":"invalid","message":"sizing not valid: stop equals entry: there is no risk to size from","de'
        b'tails":[{"field":"stop","message":"stop equals entry: there is no risk to size from","code":"zero_ri'
        b'sk"}],"summary":"Cannot size: stop equals entry: there is no risk to size from."}'
    ),
    'sizing/bad_everything': (
        b'{"code":"invalid","message":"sizing not valid: entry must be a number greater than 0 and at most 100'
        b"0000000 (got '-1'); stop must be a number greater than 0 and at most 1000000000 (got 'abc'); equity "
        b'must be a number greater than 0 and at most 1000000000000 (got 0); risk_per_trade_pct must be a numb'
        b'er greater than 0 and at most 10 (got 11); buying_power must be a number at least 0 and at most 1000'
        b"000000000 (got -5); confidence must be a number at least 0 and at most 1 (got '1.5'); instrument mus"
        b"t be 'stock' or 'option' (got 'bond'); '$$$' is not a valid symbol: use 1-10 letters/digits starting"
        b' with a letter, optionally a class suffix like BRK.B, or an OCC option symbol like AAPL240621C001900'
        b'00; lot_size must be a whole number of at least 1 (got 0)","details":[{"field":"entry","message":"en'
        b'try must be a number greater than 0 and at most 1000000000 (got \'-1\')","code":"out_of_range"},{"fiel'
        b'd":"stop","message":"stop must be a number greater than 0 and at most 1000000000 (got \'abc\')","code"'
        b':"not_a_number"},{"field":"equity","message":"equity must be a number greater than 0 and at most 100'
        b'0000000000 (got 0)","code":"out_of_range"},{"field":"risk_per_trade_pct","message":"risk_per_trade_p'
        b'ct must be a number greater than 0 and at most 10 (got 11)","code":"out_of_range"},{"field":"buying_'
        b'power","message":"buying_power must be a number at least 0 and at most 1000000000000 (got -5)","code'
        b'":"out_of_range"},{"field":"confidence","message":"confidence must be a number at least 0 and at mos'
        b't 1 (got \'1.5\')","code":"out_of_range"},{"field":"instrument","message":"instrument must be \'stock\' '
        b'or \'option\' (got \'bond\')","code":"instrument_invalid"},{"field":"symbol","message":"\'$$$\' is not a v'
        b'alid symbol: use 1-10 letters/digits starting with a letter, optionally a class suffix like BRK.B, o'
        b'r an OCC option symbol like AAPL240621C00190000","code":"symbol_invalid"},{"field":"lot_size","messa'
        b'ge":"lot_size must be a whole number of at least 1 (got 0)","code":"out_of_range"}],"summary":"Canno'
        b"t size: entry must be a number greater than 0 and at most 1000000000 (got '-1'); stop must be a numb"
        b"er greater than 0 and at most 1000000000 (got 'abc'); equity must be a number greater than 0 and at "
        b'most 1000000000000 (got 0); risk_per_trade_pct must be a number greater than 0 and at most 10 (got 1'
        b'1); buying_power must be a number at least 0 and at most 1000000000000 (got -5); confidence must be '
        b"a number at least 0 and at most 1 (got '1.5'); instrument must be 'stock' or 'option' (got 'bond'); "
        b"'$$$' is not a valid symbol: use 1-10 letters/digits starting with a letter, optionally a class suff"
        b'ix like BRK.B, or an OCC option symbol like AAPL240621C00190000; lot_size must be a whole number of '
        b'at least 1 (got 0)."}'
    ),
    'confidence': (
        b'{"score":0.45,"base":0.45,"factors":[{"name":"plan","value":1.0,"weight":0.35,"explanation":"reward:'
        b'risk 2.14 vs the 2.00 default"},{"name":"plan","value":0.75,"weight":0.35,"explanation":"reward:risk'
        b' 1.50 vs the 2.00 default"},{"name":"plan","value":1.0,"weight":0.35,"explanation":"reward:risk 2.00'
        b' vs the 2.00 default"},{"name":"plan","value":0.4,"weight":0.35,"explanation":"no target, so reward:'
        b'risk is unknown; -0.1 each for stop too wide"},{"name":"plan","value":0.6,"weight":0.35,"explanation'
        b'":"reward:risk 2.05 vs the 2.00 default; -0.1 each for stop too wide, stale quote, market closed, en'
        b'try far from last"},{"name":"plan","value":0.8,"weight":0.35,"explanation":"reward:risk 7.50 vs the '
        b'2.00 default; -0.1 each for stop inside spread, stop tighter than spread"},{"name":"plan","value":0.'
        b'0,"weight":0.35,"explanation":"reward:risk 0.00 vs the 2.00 default; -0.1 each for stop too wide, st'
        b'ale quote"},{"name":"plan","value":0.5,"weight":0.35,"explanation":"reward:risk 1.00 vs the 2.00 def'
        b'ault"},{"name":"plan","value":0.9,"weight":0.35,"explanation":"reward:risk 3.00 vs the 2.50 default;'
        b' -0.1 each for stop too wide"},{"name":"plan","value":0.0,"weight":0.35,"explanation":"plan not vali'
        b'd: stop_wrong_side, target_wrong_side, target_wrong_side"},{"name":"plan","value":0.0,"weight":0.35,'
        b'"explanation":"plan not valid: zero_risk"},{"name":"plan","value":0.0,"weight":0.35,"explanation":"p'
        b'lan not valid: side_invalid, instrument_invalid, symbol_invalid, not_a_number, not_finite, not_a_num'
        b'ber, out_of_range, out_of_range, not_a_number, too_many_targets"},{"name":"plan","value":0.0,"weight'
        b'":0.35,"explanation":"plan not valid: side_invalid, missing, too_precise, not_finite"},{"name":"data'
        b'_freshness","value":0.98,"weight":0.25,"explanation":"quote 2s old (stale after 60s)"},{"name":"data'
        b'_freshness","value":0.0,"weight":0.25,"explanation":"quote time unknown, so freshness cannot be show'
        b'n"},{"name":"data_freshness","value":0.0,"weight":0.25,"explanation":"quote 130s old (stale after 60'
        b's)"},{"name":"liquidity","value":0.98,"weight":0.15,"explanation":"spread 0.02 is 1.1 bps of the 190'
        b'.42 mid (0 at 50 bps)"},{"name":"liquidity","value":0.0,"weight":0.15,"explanation":"spread 0.30 is '
        b'2500.0 bps of the 1.20 mid (0 at 1000 bps)"},{"name":"trend","value":1.0,"weight":0.1,"explanation":'
        b'"last 190.42 is above VWAP 189.90, with the long"},{"name":"trend","value":0.5,"weight":0.1,"explana'
        b'tion":"last 190.42 is at EMA 20 190.42, flat for the short"},{"name":"trend","value":0.25,"weight":0'
        b'.1,"explanation":"last 191.00 is above VWAP 190.50, against the short"}],"adjustment":null}'
    ),
}
