"""Confidence: a 0-1 score from named, weighted factors, returned with those factors so a user can see why.

Each factor function turns one piece of evidence into a `Factor` (value 0-1, weight, a sentence with the
numbers). Unknown evidence is left out (a function returns None) rather than guessed; `score_confidence`
renormalises the weights of the factors it gets. An LLM may move the score by at most `LLM_MAX_ADJUSTMENT`,
once, and the result says so (`apply_llm_adjustment`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal

from core.domain.plans import STALE_AFTER_SEC, PlanResult, Side, fmt_num
from core.domain.risk import RiskState, TradingStatus

LLM_MAX_ADJUSTMENT = 0.15
AGAINST_TREND = 0.25
# Warnings already priced into the plan factor's R:R value, so not counted again as a penalty.
_PRICED_IN = frozenset({"no_target", "rr_below_default"})


@dataclass(frozen=True, slots=True)
class Factor:
    name: str
    value: float
    weight: float
    explanation: str


@dataclass(frozen=True, slots=True)
class Adjustment:
    requested: float
    applied: float
    reason: str
    label: str


@dataclass(frozen=True, slots=True)
class Confidence:
    """`base` is the factor score; `score` is `base` plus the (bounded) LLM adjustment, if any."""

    score: float
    base: float
    factors: tuple[Factor, ...]
    adjustment: Adjustment | None = None


def _unit(value: float) -> float:
    return round(min(1.0, max(0.0, value)), 2)


def freshness(age_sec: float | None, *, stale_after_sec: float = STALE_AFTER_SEC, weight: float = 0.25) -> Factor:
    """1 for a brand-new quote, 0.5 when it turns stale, 0 at twice that age or when the age is unknown."""
    if age_sec is None or not math.isfinite(age_sec):
        return Factor("data_freshness", 0.0, weight, "quote time unknown, so freshness cannot be shown")
    return Factor("data_freshness", _unit(1 - age_sec / (2 * stale_after_sec)), weight,
                  f"quote {age_sec:.0f}s old (stale after {stale_after_sec:.0f}s)")


def plan_quality(plan: PlanResult, *, weight: float = 0.35) -> Factor:
    """R:R to the nearest target against the default (capped at 1), 0.5 without a target, less 0.1 per other
    warning; 0 for an invalid plan."""
    if not plan.ok:
        return Factor("plan", 0.0, weight, "plan not valid: " + ", ".join(e.code for e in plan.errors))
    if plan.reward_risk is None:
        value, text = 0.5, "no target, so reward:risk is unknown"
    else:
        value = float(min(Decimal(1), plan.reward_risk / plan.default_rr))
        text = f"reward:risk {fmt_num(plan.reward_risk)} vs the {fmt_num(plan.default_rr)} default"
    penalties = [w.code for w in plan.warnings if w.code not in _PRICED_IN]
    if penalties:
        text += f"; -0.1 each for {', '.join(code.replace('_', ' ') for code in penalties)}"
    return Factor("plan", _unit(value - 0.1 * len(penalties)), weight, text)


def risk_headroom(state: RiskState, *, weight: float = 0.25) -> Factor:
    """Room left under the tightest limit (1 - used/limit); 0 when halted or reduce-only: no new trade fits."""
    if state.status is not TradingStatus.ACTIVE:
        what = "trading halted" if state.status is TradingStatus.HALTED else "reduce-only"
        return Factor("risk_state", 0.0, weight, f"{what}: " + "; ".join(state.reasons))
    tightest = max(state.usage, key=lambda usage: usage.ratio, default=None)
    if tightest is None:
        return Factor("risk_state", 1.0, weight, "no limit in use")
    return Factor("risk_state", _unit(1 - tightest.ratio), weight, f"tightest limit: {tightest.text}")


def liquidity(bid: Decimal | None, ask: Decimal | None, *, max_spread_bps: float = 50,
              weight: float = 0.15) -> Factor | None:
    """1 at a zero spread, falling linearly to 0 at `max_spread_bps` of the mid (use ~1000 for options).
    None when the spread is unknown or crossed."""
    if bid is None or ask is None or bid <= 0 or ask < bid:
        return None
    mid = (bid + ask) / 2
    bps = float((ask - bid) / mid * 10_000)
    return Factor("liquidity", _unit(1 - bps / max_spread_bps), weight,
                  f"spread {fmt_num(ask - bid)} is {bps:.1f} bps of the {fmt_num(mid)} mid "
                  f"(0 at {max_spread_bps:.0f} bps)")


def trend(side: Side, last: Decimal, reference: Decimal, *, label: str = "VWAP", weight: float = 0.10) -> Factor:
    """1 when the last price is on the plan's side of a reference level (VWAP, a moving average, ...),
    0.5 on it, 0.25 against it."""
    direction = (last - reference) * (1 if side is Side.LONG else -1)
    place = "above" if last > reference else "below" if last < reference else "at"
    value, verdict = (1.0, "with") if direction > 0 else (0.5, "flat for") if direction == 0 else (
        AGAINST_TREND, "against")
    return Factor("trend", value, weight, f"last {fmt_num(last)} is {place} {label} {fmt_num(reference)}, "
                                          f"{verdict} the {side}")


def score_confidence(factors: Iterable[Factor | None]) -> Confidence:
    """Weighted mean of the known factors (weights renormalised), rounded to 0.01; 0 when nothing is known."""
    known = tuple(f for f in factors if f is not None)
    total = sum(f.weight for f in known)
    base = _unit(sum(f.value * f.weight for f in known) / total) if total > 0 else 0.0
    return Confidence(base, base, known)


def apply_llm_adjustment(confidence: Confidence, delta: float, reason: str) -> Confidence:
    """Move the factor score by `delta`, clamped to +/-LLM_MAX_ADJUSTMENT and to [0, 1], and label it.
    Replaces any earlier adjustment (adjustments never stack); a non-finite delta is ignored, labelled."""
    requested = delta if math.isfinite(delta) else 0.0
    applied = round(max(-LLM_MAX_ADJUSTMENT, min(LLM_MAX_ADJUSTMENT, requested)), 2)
    if not math.isfinite(delta):
        label = f"LLM adjustment ignored: {delta} is not a number"
    elif applied != round(requested, 2):
        label = (f"LLM adjusted confidence by {applied:+.2f} (asked {requested:+.2f}, capped at "
                 f"±{LLM_MAX_ADJUSTMENT:.2f}): {reason}")
    else:
        label = f"LLM adjusted confidence by {applied:+.2f}: {reason}"
    adjustment = Adjustment(requested, applied, reason, label)
    return replace(confidence, score=_unit(confidence.base + applied), adjustment=adjustment)
