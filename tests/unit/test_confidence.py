"""Confidence: each factor's value and explanation, the weighted score, and the bounded LLM adjustment."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.confidence import (
    LLM_MAX_ADJUSTMENT,
    Confidence,
    Factor,
    apply_llm_adjustment,
    freshness,
    liquidity,
    plan_quality,
    risk_headroom,
    score_confidence,
    trend,
)
from core.domain.orders import Balances
from core.domain.plans import Side, validate_plan
from core.domain.risk import AccountSnapshot, RiskLimits, RiskState, TradingStatus, evaluate_risk

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(("age", "value"), [(0, 1.0), (30, 0.75), (60, 0.5), (90, 0.25), (120, 0.0), (600, 0.0),
                                            (None, 0.0), (float("nan"), 0.0)])
def test_freshness(age: float | None, value: float) -> None:
    factor = freshness(age)
    assert (factor.name, factor.value, factor.weight) == ("data_freshness", value, 0.25)
    assert ("unknown" in factor.explanation) == (age is None or age != age)


@pytest.mark.parametrize(
    ("kwargs", "value", "text"),
    [
        (dict(side="long", entry="190.50", stop="189.80", targets=["192.00"]), 1.0,
         "reward:risk 2.14 vs the 2.00 default"),
        (dict(side="long", entry=100, stop=99, targets=[101]), 0.5, "reward:risk 1.00 vs the 2.00 default"),
        (dict(side="long", entry=100, stop=99), 0.5, "no target, so reward:risk is unknown"),
        (dict(side="long", entry=100, stop=80, targets=[160]), 0.9,
         "reward:risk 3.00 vs the 2.00 default; -0.1 each for stop too wide"),
        (dict(side="long", entry=100, stop=101, targets=[110]), 0.0, "plan not valid: stop_wrong_side"),
    ],
)
def test_plan_quality(kwargs: dict[str, object], value: float, text: str) -> None:
    factor = plan_quality(validate_plan(default_rr=D(2), **kwargs))  # type: ignore[arg-type]
    assert (factor.value, factor.explanation) == (value, text)


def state(status: TradingStatus = TradingStatus.ACTIVE, *, realized: D = D(-140), trades: int = 2) -> RiskState:
    snapshot = AccountSnapshot(Balances(D(100_000), D(100_000), D(100_000), realized_pnl_today=realized),
                               trades_today=trades)
    evaluated = evaluate_risk(RiskLimits(), snapshot, NOW)
    assert evaluated.status is status
    return evaluated


def test_risk_headroom_is_room_under_the_tightest_limit() -> None:
    assert risk_headroom(state()) == Factor("risk_state", 0.72, 0.25,
                                            "tightest limit: $140.00 of $500.00 daily loss")
    reduce_only = risk_headroom(state(TradingStatus.REDUCE_ONLY, realized=D(0), trades=10))
    assert reduce_only.value == 0.0 and reduce_only.explanation.startswith("reduce-only: 10/10 trades today")
    idle = RiskState(TradingStatus.ACTIVE, (), (), RiskLimits(), D(1), D(0), NOW)
    assert risk_headroom(idle).value == 1.0
    halted = risk_headroom(state(TradingStatus.HALTED, realized=D(-500)))
    assert halted.value == 0.0 and halted.explanation.startswith("trading halted: daily loss $500.00")


@pytest.mark.parametrize(
    ("bid", "ask", "value"),
    [(D("99.99"), D("100.01"), 0.96), (D(100), D(100), 1.0), (D("99.75"), D("100.25"), 0.0),
     (D("99.95"), D("100.05"), 0.8), (None, D(100), None), (D("100.01"), D("99.99"), None), (D(0), D(1), None)],
)
def test_liquidity(bid: D | None, ask: D | None, value: float | None) -> None:
    factor = liquidity(bid, ask)
    assert (factor.value if factor else None) == value
    if bid == D("99.99"):
        assert factor is not None and factor.explanation == "spread 0.02 is 2.0 bps of the 100.00 mid (0 at 50 bps)"


@pytest.mark.parametrize(
    ("side", "last", "value", "verdict"),
    [(Side.LONG, D(101), 1.0, "above VWAP 100.00, with the long"),
     (Side.SHORT, D(101), 0.25, "above VWAP 100.00, against the short"),
     (Side.SHORT, D(99), 1.0, "below VWAP 100.00, with the short"),
     (Side.LONG, D(100), 0.5, "at VWAP 100.00, flat for the long")],
)
def test_trend(side: Side, last: D, value: float, verdict: str) -> None:
    factor = trend(side, last, D(100))
    assert factor.value == value and factor.explanation.endswith(verdict)


def test_score_is_the_weighted_mean_of_known_factors() -> None:
    factors = [Factor("a", 1.0, 0.25, ""), Factor("b", 0.5, 0.35, ""), None, Factor("c", 0.72, 0.25, "")]
    confidence = score_confidence(factors)
    assert confidence.score == confidence.base == 0.71  # (0.25 + 0.175 + 0.18) / 0.85 = 0.7118
    assert [f.name for f in confidence.factors] == ["a", "b", "c"] and confidence.adjustment is None
    assert score_confidence([]).score == 0.0
    assert confidence.factors[1] == Factor("b", 0.5, 0.35, "")


@pytest.mark.parametrize(
    ("delta", "applied", "score", "label"),
    [
        (0.1, 0.1, 0.7, "LLM adjusted confidence by +0.10: momentum"),
        (-0.05, -0.05, 0.55, "LLM adjusted confidence by -0.05: momentum"),
        (0.3, 0.15, 0.75, "LLM adjusted confidence by +0.15 (asked +0.30, capped at ±0.15): momentum"),
        (-1.0, -0.15, 0.45, "LLM adjusted confidence by -0.15 (asked -1.00, capped at ±0.15): momentum"),
        (float("nan"), 0.0, 0.6, "LLM adjustment ignored: nan is not a number"),
        (float("inf"), 0.0, 0.6, "LLM adjustment ignored: inf is not a number"),
    ],
)
def test_llm_adjustment_is_bounded_and_labelled(delta: float, applied: float, score: float, label: str) -> None:
    adjusted = apply_llm_adjustment(Confidence(0.6, 0.6, ()), delta, "momentum")
    assert adjusted.adjustment is not None
    assert (adjusted.adjustment.applied, adjusted.score, adjusted.base) == (applied, score, 0.6)
    assert adjusted.adjustment.label == label


def test_adjustments_replace_rather_than_stack_and_stay_in_range() -> None:
    once = apply_llm_adjustment(Confidence(0.95, 0.95, ()), 0.15, "a")
    twice = apply_llm_adjustment(once, 0.15, "b")
    assert once.score == twice.score == 1.0 and twice.adjustment is not None and twice.adjustment.reason == "b"
    assert apply_llm_adjustment(Confidence(0.05, 0.05, ()), -0.15, "c").score == 0.0


unit = st.floats(0, 1)


@given(st.lists(st.builds(Factor, st.text(max_size=3), unit, st.floats(0.01, 1), st.just("")), min_size=1),
       st.floats(allow_nan=True, allow_infinity=True))
def test_score_stays_between_its_factors_and_the_llm_cannot_move_it_far(factors: list[Factor],
                                                                        delta: float) -> None:
    confidence = score_confidence(factors)
    assert min(f.value for f in factors) - 0.005 <= confidence.score <= max(f.value for f in factors) + 0.005
    adjusted = apply_llm_adjustment(confidence, delta, "why")
    assert 0.0 <= adjusted.score <= 1.0
    assert abs(adjusted.score - confidence.base) <= LLM_MAX_ADJUSTMENT + 1e-9
