"""The numbers check (every number in a coach reply must come from a tool result of the turn) and the coach's
pure value types."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.coach import (
    ChecklistStage,
    ChecklistStep,
    Source,
    Suggestion,
    SuggestionAction,
    SuggestionKind,
    ToolCall,
    execution_checklist,
    unverified_numbers,
)
from core.domain.coach_replies import json_ready
from core.domain.confidence import Factor, score_confidence

QUOTE = {"symbol": "SPY", "last": 512.34, "bid": "512.30", "change_pct": -0.0121, "volume": 1_234_567,
         "as_of": "2024-06-21T14:30:05Z"}


@pytest.mark.parametrize("reply", [
    "SPY trades at 512.34 (bid $512.30).",
    "Last 512.3, roughly 512.",                    # rounded to the precision written
    "Volume 1,234,567 today; about 1.2M shares.",  # thousands separators and a scale suffix
    "Down 1.21% on the day.",                      # a percentage of a fraction, sign in words
    "Down -1.2 % on the day.",
    "As of 2024-06-21 14:30 (10:30 ET), 6/21.",    # dates and clock times are not checked
    "Take 3 targets at 2R with a 2:1 ratio on 5m bars; 1. plan 2. size.",  # labels, ratios, small counts
    "The SPY240621C00500000 contract.",            # digits inside a symbol
])
def test_numbers_from_tool_results_pass(reply: str) -> None:
    assert unverified_numbers(reply, [QUOTE]) == []


@pytest.mark.parametrize(("reply", "flagged"), [
    ("SPY trades at 514.75.", ["514.75"]),
    ("Last 512.4.", ["512.4"]),           # 512.34 does not round to 512.4
    ("Last 513.", ["513"]),
    ("Up 2% today.", ["2%"]),             # small numbers are checked when they are percentages
    ("Buy 250 shares, stop 505, stop 505 again.", ["250", "505"]),  # each number flagged once
    ("Volume about 2.5M.", ["2.5M"]),
])
def test_invented_numbers_are_flagged(reply: str, flagged: list[str]) -> None:
    assert unverified_numbers(reply, [QUOTE]) == flagged


@pytest.mark.parametrize(("reply", "results"), [
    ("Risk 0.5% per trade.", [{"risk_per_trade_pct": 0.5}]),
    ("Risk 0.5% per trade.", [{"risk_fraction": 0.005}]),
    ("Half: 50%.", [{"weight": 0.5}]),
    ("1,000 shares at $12.00", [{"quantity": 1000, "entry": Decimal("12")}]),
    ("Equity $3.4B", ['{"equity": 3400000000}']),          # JSON text as sent to the model
    ("Targets 520 and 525.5", [{"targets": [[520], {"t2": "525.50"}]}]),  # nested values
])
def test_formats_match(reply: str, results: list[object]) -> None:
    assert unverified_numbers(reply, results) == []


def test_user_numbers_count_as_known() -> None:
    reply = "The 512 breakout: SPY is at 512.34."
    assert unverified_numbers(reply, [QUOTE]) == []
    assert unverified_numbers("The 518 breakout", [QUOTE]) == ["518"]
    assert unverified_numbers("The 518 breakout", [QUOTE], known_texts=["Is the SPY 518 breakout real?"]) == []


def test_small_integers_can_be_checked_too() -> None:
    assert unverified_numbers("Take 3 targets", [QUOTE], small_int_limit=0) == ["3"]


def test_odd_tool_values_are_ignored() -> None:
    assert unverified_numbers("Price 7.5", [None, True, float("nan"), {"p": 7.5}]) == []
    assert unverified_numbers("Price 7.5", [True, float("inf")]) == ["7.5"]


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999"), places=2))
def test_any_price_matches_its_own_formats(price: Decimal) -> None:
    results = [json.dumps({"last": float(price)})]
    reply = f"At ${price:,.2f} (about {price:.1f}, or {price:.0f})."
    assert unverified_numbers(reply, results) == []


def test_tool_call_parse_keeps_raw_and_reports_errors() -> None:
    good = ToolCall.parse("c1", "quote", '{"symbol": "SPY"}')
    assert good.arguments == {"symbol": "SPY"} and good.parse_error is None
    assert ToolCall.parse("c2", "quote", "[1]").parse_error == "arguments are not a JSON object"
    broken = ToolCall.parse("c3", "quote", "{oops")
    assert broken.arguments == {} and broken.arguments_json == "{oops" and broken.parse_error
    assert ToolCall.parse("c4", "positions", None).arguments_json == "{}"
    assert ToolCall.of("c5", "quote", {"symbol": "SPY"}).arguments_json == '{"symbol":"SPY"}'


def test_suggestion_and_checklist_serialise() -> None:
    as_of = datetime(2024, 6, 21, 14, 30, tzinfo=UTC)
    confidence = score_confidence([Factor("plan", 0.6, 1, "R:R 2")])
    suggestion = Suggestion("Buy 10 SPY at 512.30", SuggestionKind.ORDER, confidence,
                            "breakout above 512 with a 2R target", (Source("quote", "polygon:/v2/last/trade", as_of),),
                            SuggestionAction("order_intent", "intent-1"))
    body = json_ready(suggestion)
    assert body["confidence"]["score"] == 0.6 and body["kind"] == "order" and body["sources"] == [
        {"tool": "quote", "endpoint": "polygon:/v2/last/trade", "as_of": "2024-06-21T14:30:00+00:00"}]
    assert body["action"] == {"kind": "order_intent", "ref": "intent-1", "payload": {}}
    steps = execution_checklist({ChecklistStage.PLAN: ChecklistStep(ChecklistStage.PLAN, "Plan valid", "done")})
    assert [step.stage for step in steps] == list(ChecklistStage)
    assert steps[0].status == "done" and all(step.status == "todo" for step in steps[1:])
