"""Picks: a setup on one symbol with its levels, targets, explained confidence, status and honest outcome.

A pick is born from a `Signal` (core/domain/setups/rules.py) and then lives by price: forming -> triggered when
a trade crosses the trigger, -> invalidated when one crosses the stop, -> expired when its window (forming) or
the session (triggered) ends. While forming, a fresh signal of the same setup may move its levels; once
triggered they are frozen, and every later bar scores it: maximum favourable/adverse excursion in R, whether it
reached 1R before the stop (a bar that spans both counts as the stop first), and its result in R.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from core.domain.confidence import Confidence, Factor, freshness, risk_headroom, score_confidence
from core.domain.pick_views import PickOutcome, PickStatus, PickView
from core.domain.risk import RiskState
from core.domain.setups.rules import LABELS, Direction, Signal
from core.domain.setups.session import SessionState

R_TARGETS = (1.0, 2.0)
SIZE_ON_READ = "sized when read (GET /api/v1/picks): the size follows the account"
ATR_EXTENDED = 1.0  # a triggered pick this many ATRs past its trigger is a chase: distance factor 0
ATR_FAR = 1.5  # a forming pick this many ATRs from its trigger is far off: distance factor 0


ACTIVE = frozenset({PickStatus.FORMING, PickStatus.TRIGGERED})


def price_text(value: float) -> str:
    """A price as people read it: cents at $1 and above, four places below."""
    return f"{value:.2f}" if abs(value) >= 1 else f"{value:.4f}"


def iso_ms(value: int | None) -> str | None:
    return None if value is None else datetime.fromtimestamp(value / 1000, UTC).isoformat(timespec="seconds")


@dataclass(slots=True, eq=False)
class Pick:
    id: str
    symbol: str
    setup: str
    direction: Direction
    trigger: float
    stop: float
    targets: tuple[float, ...]
    stop_basis: str
    invalidation: str
    status: PickStatus
    session: str
    created_ms: int
    as_of_ms: int
    expires_ms: int
    session_end_ms: int
    last: float
    confidence: Confidence
    why: str
    reason: str = ""
    triggered_ms: int | None = None
    closed_ms: int | None = None
    mfe_r: float = 0.0
    mae_r: float = 0.0
    reached_1r: bool | None = None
    result_r: float | None = None
    version: int = 0
    stale: bool = True

    @property
    def risk(self) -> float:
        return abs(self.trigger - self.stop)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def key(self) -> tuple[str, str, Direction]:
        return self.symbol, self.setup, self.direction

    def r_multiples(self) -> tuple[float, ...]:
        risk = self.risk
        return tuple(round(abs(t - self.trigger) / risk, 2) for t in self.targets)

    def view(self, now_ms: int | None = None) -> PickView:
        """As read at `now_ms`, unsized (`size` is filled in by the picks service when a pick is read: it depends
        on the account, not on the pick)."""
        now = now_ms if now_ms is not None else int(datetime.now(UTC).timestamp() * 1000)
        return PickView(
            self.id, self.symbol, self.setup, LABELS.get(self.setup, self.setup), self.direction,
            price_text(self.trigger), price_text(self.stop), self.stop_basis, self.invalidation,
            tuple(price_text(t) for t in self.targets), self.r_multiples(), None, SIZE_ON_READ, self.confidence,
            self.why, self.status, self.reason, price_text(self.last), iso_ms(self.as_of_ms),
            round(max(0, now - self.as_of_ms) / 1000, 1), iso_ms(self.created_ms), iso_ms(self.expires_ms),
            iso_ms(self.triggered_ms), iso_ms(self.closed_ms),
            PickOutcome(round(self.mfe_r, 2), round(self.mae_r, 2), self.reached_1r,
                        None if self.result_r is None else round(self.result_r, 2)))


# -- confidence ------------------------------------------------------------------------------------------------

def _unit(value: float) -> float:
    return round(min(1.0, max(0.0, value)), 2)


def _side_value(sign: float) -> tuple[float, str]:
    return (1.0, "with") if sign > 0 else (0.5, "flat for") if sign == 0 else (0.25, "against")


def vwap_side(direction: Direction, last: float, vwap: float, *, weight: float = 0.15) -> Factor | None:
    if not math.isfinite(vwap):
        return None
    value, verdict = _side_value((last - vwap) * (1 if direction is Direction.LONG else -1))
    place = "above" if last > vwap else "below" if last < vwap else "at"
    return Factor("trend", value, weight, f"last {price_text(last)} is {place} VWAP {price_text(vwap)}, "
                                          f"{verdict} the {direction.value}")


def higher_timeframe(direction: Direction, last: float, prior_close: float, *, weight: float = 0.15) -> Factor | None:
    """The day's direction (last vs the prior session's close) for or against the pick."""
    if not prior_close > 0:
        return None
    change = (last / prior_close - 1) * 100
    value, verdict = _side_value(change * (1 if direction is Direction.LONG else -1))
    return Factor("higher_timeframe", value, weight, f"{change:+.2f}% on the day vs prior close "
                                                     f"{price_text(prior_close)}, {verdict} the {direction.value}")


def relative_volume(rvol: float, *, weight: float = 0.15) -> Factor | None:
    """0 at half the usual volume by this minute, 1 at twice it."""
    if not math.isfinite(rvol):
        return None
    return Factor("relative_volume", _unit((rvol - 0.5) / 1.5), weight,
                  f"volume {rvol:.2f}x the average by this time of day (1 at 2x)")


def trigger_distance(direction: Direction, triggered: bool, last: float, trigger: float, atr: float, *,
                     weight: float = 0.15) -> Factor | None:
    """Forming: near the trigger is better (0 at ATR_FAR ATRs). Triggered: a chase is worse (0 at ATR_EXTENDED
    past it)."""
    if not atr > 0:
        return None
    past = (last - trigger) / atr * (1 if direction is Direction.LONG else -1)
    if triggered:
        return Factor("distance_to_trigger", _unit(1 - max(past, 0.0) / ATR_EXTENDED), weight,
                      f"{max(past, 0.0):.2f} ATR past the trigger (0 at {ATR_EXTENDED:g} ATR: a chase)")
    away = max(-past, 0.0)
    return Factor("distance_to_trigger", _unit(1 - away / ATR_FAR), weight,
                  f"{away:.2f} ATR from the trigger (ATR {price_text(atr)}; 0 at {ATR_FAR:g} ATR)")


def spread(bid: float | None, ask: float | None, *, max_bps: float = 20, weight: float = 0.05) -> Factor | None:
    if bid is None or ask is None or not 0 < bid <= ask:
        return None
    bps = (ask - bid) / ((ask + bid) / 2) * 10_000
    return Factor("liquidity", _unit(1 - bps / max_bps), weight,
                  f"spread {price_text(ask - bid)} is {bps:.1f} bps (0 at {max_bps:g} bps)")


def dollar_volume(dollars: float, minimum: float, *, weight: float = 0.10) -> Factor | None:
    """0.5 at the universe's minimum daily dollar volume, 1 at 10x it, 0 at a tenth."""
    if not dollars > 0 or not minimum > 0:
        return None
    return Factor("dollar_volume", _unit(0.5 + math.log10(dollars / minimum) / 2), weight,
                  f"${dollars / 1e6:,.1f}M average daily dollar volume (minimum ${minimum / 1e6:,.1f}M)")


@dataclass(frozen=True, slots=True)
class Context:
    """What a pick's confidence reads besides the symbol's session: the quote, the risk state, the universe's
    liquidity floor, the clock, and any factors other features add (news, earnings)."""

    now_ms: int
    bid: float | None = None
    ask: float | None = None
    risk: RiskState | None = None
    min_dollar_volume: float = 0.0
    extra: Sequence[Factor] = ()


def confidence_of(direction: Direction, triggered: bool, trigger: float, s: SessionState, ctx: Context
                  ) -> Confidence:
    """The pick's factors at the last closed bar, scored by the coach's `score_confidence`."""
    price = s.close
    factors: list[Factor | None] = [
        vwap_side(direction, price, s.vwap), higher_timeframe(direction, price, s.history.prior_close),
        relative_volume(s.rvol), trigger_distance(direction, triggered, price, trigger, s.atr),
        spread(ctx.bid, ctx.ask), dollar_volume(s.history.dollar_volume, ctx.min_dollar_volume),
        freshness(max(0, ctx.now_ms - s.end_ms) / 1000, weight=0.15),
        None if ctx.risk is None else risk_headroom(ctx.risk, weight=0.10), *ctx.extra]
    return score_confidence(factors)


def why(pick: Pick, s: SessionState) -> str:
    """One sentence from the pick's own numbers."""
    label = LABELS.get(pick.setup, pick.setup)
    state = {"forming": "forming", "triggered": "triggered", "invalidated": "invalidated", "expired": "expired"}
    rvol = f", volume {s.rvol:.1f}x usual" if math.isfinite(s.rvol) else ""
    atr = f", ATR {price_text(s.atr)}" if math.isfinite(s.atr) else ""
    return (f"{pick.symbol} {label} {pick.direction.value} {state[pick.status.value]}: trigger "
            f"{price_text(pick.trigger)}, stop {price_text(pick.stop)} ({pick.stop_basis}), 1R = "
            f"{price_text(pick.risk)}; last {price_text(pick.last)} vs VWAP {price_text(s.vwap)}{rvol}{atr}.")


# -- building and living ------------------------------------------------------------------------------------------

def targets_for(signal: Signal) -> tuple[float, ...]:
    """1R and 2R from the trigger, plus the setup's structural target when it lies beyond the trigger."""
    sign = 1 if signal.direction is Direction.LONG else -1
    levels = {round(signal.trigger + sign * r * signal.risk, 6) for r in R_TARGETS}
    if signal.target is not None and math.isfinite(signal.target) and (signal.target - signal.trigger) * sign > 0:
        levels.add(round(signal.target, 6))
    return tuple(sorted(levels, reverse=sign < 0))


UNSCORED = score_confidence(())


def new_pick(pick_id: str, signal: Signal, s: SessionState) -> Pick:
    """A pick from a signal; its confidence and sentence are filled in by `settle` when someone reads it."""
    status = PickStatus.TRIGGERED if signal.triggered else PickStatus.FORMING
    pick = Pick(pick_id, s.symbol, signal.setup, signal.direction, signal.trigger, signal.stop, targets_for(signal),
                signal.stop_basis, signal.invalidation, status, s.day.isoformat() if s.day else "", s.end_ms,
                s.end_ms, signal.expires_ms, s.open_ms + 390 * 60_000, s.close, UNSCORED, "")
    if signal.triggered:
        pick.triggered_ms, pick.reason = s.end_ms, "closed through the trigger"
        _excursion(pick, s.close, s.close)
    return pick


def refresh(pick: Pick, signal: Signal | None, s: SessionState) -> None:
    """After a closed bar: a forming pick takes the signal's new levels; every active pick needs a new score."""
    if signal is not None and pick.status is PickStatus.FORMING:
        pick.trigger, pick.stop, pick.stop_basis = signal.trigger, signal.stop, signal.stop_basis
        pick.invalidation, pick.expires_ms, pick.targets = signal.invalidation, signal.expires_ms, targets_for(signal)
    pick.last, pick.as_of_ms = s.close, s.end_ms
    pick.stale = True
    pick.version += 1


def settle(pick: Pick, s: SessionState, ctx: Context) -> Pick:
    """Score an updated pick against its symbol's state now (an active one) and rewrite its sentence. Done on
    read and on publish, not on every bar: the confidence is what a reader sees, the bar path stays O(1)."""
    if pick.stale:
        if pick.active or pick.confidence is UNSCORED:
            pick.confidence = confidence_of(pick.direction, pick.status is PickStatus.TRIGGERED, pick.trigger, s, ctx)
        pick.why = why(pick, s)
        pick.stale = False
    return pick


def _excursion(pick: Pick, high: float, low: float) -> None:
    risk = pick.risk
    if pick.direction is Direction.LONG:
        favourable, adverse = (high - pick.trigger) / risk, (pick.trigger - low) / risk
    else:
        favourable, adverse = (pick.trigger - low) / risk, (high - pick.trigger) / risk
    pick.mfe_r, pick.mae_r = max(pick.mfe_r, favourable), max(pick.mae_r, adverse)
    if pick.reached_1r is None and favourable >= 1:
        pick.reached_1r = True


def on_range(pick: Pick, high: float, low: float, ts_ms: int) -> bool:
    """Advance an active pick by the prices traded since its last update (a trade: high = low). Returns whether
    anything a reader sees changed."""
    if pick.status is PickStatus.FORMING:
        if ts_ms >= pick.expires_ms:
            return _close(pick, PickStatus.EXPIRED, ts_ms, "window passed before a trigger", None)
        stop_hit = low <= pick.stop if pick.direction is Direction.LONG else high >= pick.stop
        crossed = high > pick.trigger if pick.direction is Direction.LONG else low < pick.trigger
        if stop_hit:  # a bar through both: the stop first, conservatively
            return _close(pick, PickStatus.INVALIDATED, ts_ms,
                          f"traded through the stop {price_text(pick.stop)} before the trigger", None)
        if not crossed:
            return False
        pick.status, pick.triggered_ms, pick.reason = PickStatus.TRIGGERED, ts_ms, "traded through the trigger"
        pick.stale = True
        pick.version += 1
        return True
    if pick.status is not PickStatus.TRIGGERED:
        return False
    stop_hit = low <= pick.stop if pick.direction is Direction.LONG else high >= pick.stop
    if stop_hit:
        pick.mae_r = max(pick.mae_r, 1.0)
        if pick.reached_1r is None:
            pick.reached_1r = False
        return _close(pick, PickStatus.INVALIDATED, ts_ms, f"stopped at {price_text(pick.stop)}", -1.0)
    before = (pick.mfe_r, pick.reached_1r)
    _excursion(pick, high, low)
    if ts_ms >= pick.session_end_ms:
        last = (high + low) / 2
        sign = 1 if pick.direction is Direction.LONG else -1
        return _close(pick, PickStatus.EXPIRED, ts_ms, "session ended", (last - pick.trigger) * sign / pick.risk)
    return (pick.mfe_r, pick.reached_1r) != before


def end_session(pick: Pick, ts_ms: int) -> None:
    """The session is over: a forming pick expires; a triggered one is marked to its last price in R."""
    if pick.status is PickStatus.TRIGGERED:
        sign = 1 if pick.direction is Direction.LONG else -1
        _close(pick, PickStatus.EXPIRED, ts_ms, "session ended", (pick.last - pick.trigger) * sign / pick.risk)
    elif pick.status is PickStatus.FORMING:
        _close(pick, PickStatus.EXPIRED, ts_ms, "session ended before a trigger", None)


def _close(pick: Pick, status: PickStatus, ts_ms: int, reason: str, result: float | None) -> bool:
    pick.status, pick.closed_ms, pick.reason = status, ts_ms, reason
    pick.stale = True
    if result is not None:
        pick.result_r = 1.0 if pick.reached_1r else result
        if pick.reached_1r is None:
            pick.reached_1r = False
    pick.version += 1
    return True


# -- after the fact --------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Outcome:
    triggered: bool
    reached_1r: bool | None
    mfe_r: float
    mae_r: float
    result_r: float | None


def score_bars(direction: Direction, trigger: float, stop: float, bars: Iterable[tuple[float, float, float]]
               ) -> Outcome:
    """Score levels against later bars `(high, low, close)`: trigger first, then 1R vs stop (a bar spanning
    both: the stop), result +1 at 1R, -1 at the stop, else the last close in R."""
    pick = Pick("", "", "", direction, trigger, stop, (), "", "", PickStatus.FORMING, "", 0, 0, 2**62, 2**62, trigger,
                score_confidence(()), "")
    last_close = None
    for high, low, close in bars:
        if pick.status is PickStatus.FORMING:
            crossed = high > trigger if direction is Direction.LONG else low < trigger
            if not crossed:
                continue
            pick.status = PickStatus.TRIGGERED
        on_range(pick, high, low, 0)
        last_close = close
        if pick.status is not PickStatus.TRIGGERED:
            break
    if pick.status is PickStatus.FORMING:
        return Outcome(False, None, 0.0, 0.0, None)
    if pick.status is PickStatus.TRIGGERED and last_close is not None:
        sign = 1 if direction is Direction.LONG else -1
        pick.result_r = 1.0 if pick.reached_1r else (last_close - trigger) * sign / pick.risk
    return Outcome(True, pick.reached_1r if pick.reached_1r is not None else False, round(pick.mfe_r, 4),
                   round(pick.mae_r, 4), None if pick.result_r is None else round(pick.result_r, 4))


@dataclass(frozen=True, slots=True)
class SetupStats:
    setup: str
    picks: int
    triggered: int
    scored: int
    hits: int
    hit_rate: float | None
    avg_r: float | None
    avg_mfe_r: float | None
    avg_mae_r: float | None


@dataclass(frozen=True, slots=True)
class Scored:
    """One stored pick as the scorecard reads it."""

    setup: str
    triggered: bool
    reached_1r: bool | None
    result_r: float | None
    mfe_r: float
    mae_r: float


def scorecard(rows: Iterable[Scored]) -> list[SetupStats]:
    """Per setup: hit rate (1R before the stop) and mean result over the triggered picks with a result."""
    groups: dict[str, list[Scored]] = {}
    for row in rows:
        groups.setdefault(row.setup, []).append(row)
    stats = []
    for setup, items in sorted(groups.items()):
        triggered = [r for r in items if r.triggered]
        scored = [r for r in triggered if r.result_r is not None]
        hits = sum(1 for r in scored if r.reached_1r)
        n = len(scored)
        stats.append(SetupStats(
            setup, len(items), len(triggered), n, hits, round(hits / n, 3) if n else None,
            round(sum(r.result_r or 0.0 for r in scored) / n, 3) if n else None,
            round(sum(r.mfe_r for r in scored) / n, 3) if n else None,
            round(sum(r.mae_r for r in scored) / n, 3) if n else None))
    return stats
