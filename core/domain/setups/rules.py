"""The intraday setups: each a small pure function of one symbol's session state after a closed bar.

A setup answers `None` (not set up) or a `Signal`: its direction, trigger (the price that must trade to enter),
structural stop (range low, VWAP, prior bar, prior-day level) and what invalidates it. Whether it has already
triggered follows from the bar's close against the trigger, the same rule for every setup (`make_signal`).

Thresholds are named constants so a test can state them: a truth table reads "this series gives an ORB long
with trigger 101 and stop 99".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from core.domain.setups.session import MINUTE_MS, OPENING_RANGES, SessionState

NEAR_ATR = 0.25  # a level within this many ATRs of the close is "forming"
PRIOR_DAY_NEAR_ATR = 0.5
PRIOR_DAY_STOP_ATR = 0.5  # a prior-day break is wrong once price is this far back through the level
MIN_RISK_ATR = 0.05  # a stop closer than this to the trigger is noise, not structure
GAP_MIN = 0.02  # |open / prior close - 1| for a gap setup
GAP_WINDOW_MIN = 90
DAY_BREAK_AFTER_MIN = 15  # high/low-of-day breaks are not opening-range breaks
SURGE_RATIO = 3.0  # a bar with 3x the volume of the same minute in earlier sessions


class Direction(StrEnum):
    LONG = "long"
    SHORT = "short"


@dataclass(frozen=True, slots=True)
class Signal:
    setup: str
    direction: Direction
    trigger: float
    stop: float
    stop_basis: str
    invalidation: str
    triggered: bool
    expires_ms: int
    target: float | None = None  # a structural target (measured move, gap fill) besides the R multiples

    @property
    def risk(self) -> float:
        return abs(self.trigger - self.stop)


def make_signal(s: SessionState, setup: str, direction: Direction, trigger: float, stop: float, *, basis: str,
                window_min: int, target: float | None = None) -> Signal | None:
    """The one place a signal is built: None when the stop is on the wrong side or closer than MIN_RISK_ATR."""
    risk = trigger - stop if direction is Direction.LONG else stop - trigger
    atr = s.atr
    if not risk > 0 or risk < MIN_RISK_ATR * atr or window_min <= 0:
        return None
    triggered = s.close > trigger if direction is Direction.LONG else s.close < trigger
    side = "below" if direction is Direction.LONG else "above"
    return Signal(setup, direction, trigger, stop, basis, f"a trade {side} {stop:.2f} ({basis})",
                  triggered, s.end_ms + window_min * MINUTE_MS, target)


def opening_range(s: SessionState, k: int) -> Signal | None:
    """Opening-range breakout (long) / breakdown (short) of the first OPENING_RANGES[k] minutes. Inside the
    range it is forming on the side the close is nearer; the stop is the other side of the range."""
    high, low = s.or_high[k], s.or_low[k]
    if not high > low:
        return None
    name, window = f"orb{OPENING_RANGES[k]}", OPENING_RANGES[k] + 120 - (s.minute + 1)  # range end + 2 h
    height = high - low
    if s.close > high or (s.close >= low and s.close >= (high + low) / 2):
        return make_signal(s, name, Direction.LONG, high, low, basis="opening-range low", window_min=window,
                           target=high + height)
    return make_signal(s, name, Direction.SHORT, low, high, basis="opening-range high", window_min=window,
                       target=low - height)


def orb5(s: SessionState) -> Signal | None:
    return opening_range(s, 0)


def orb15(s: SessionState) -> Signal | None:
    return opening_range(s, 1)


def orb30(s: SessionState) -> Signal | None:
    return opening_range(s, 2)


def vwap_reclaim(s: SessionState) -> Signal | None:
    """Long: the prior bar closed below VWAP and this one closed back above (triggered), or is rising within
    NEAR_ATR below it without having touched it (forming). Stop: the lower of the two bars' lows."""
    vwap = s.vwap
    if not s.prev_close < s.prev_vwap:
        return None
    if s.close > vwap or (s.high < vwap and s.close > s.prev_close and vwap - s.close <= NEAR_ATR * s.atr):
        return make_signal(s, "vwap_reclaim", Direction.LONG, vwap, min(s.low, s.prev_low), basis="prior-bar low",
                           window_min=15)
    return None


def vwap_rejection(s: SessionState) -> Signal | None:
    """Short: below VWAP, this bar traded up to it and closed back below. Trigger: a break of this bar's low;
    stop: its high (above VWAP)."""
    if s.prev_close < s.prev_vwap and s.high >= s.vwap > s.close:
        return make_signal(s, "vwap_rejection", Direction.SHORT, s.low, s.high, basis="rejection-bar high",
                           window_min=10)
    return None


def hod_break(s: SessionState) -> Signal | None:
    """Long: a close above the prior high of day (triggered), or a close within NEAR_ATR of it (forming).
    Stop: the lower of the last two bars' lows."""
    if s.minute < DAY_BREAK_AFTER_MIN:
        return None
    level = s.prev_hod if s.close > s.prev_hod else s.hod
    if s.close > s.prev_hod or level - s.close <= NEAR_ATR * s.atr:
        return make_signal(s, "hod_break", Direction.LONG, level, min(s.low, s.prev_low), basis="prior-bar low",
                           window_min=30)
    return None


def lod_break(s: SessionState) -> Signal | None:
    """Short mirror of `hod_break`."""
    if s.minute < DAY_BREAK_AFTER_MIN:
        return None
    level = s.prev_lod if s.close < s.prev_lod else s.lod
    if s.close < s.prev_lod or s.close - level <= NEAR_ATR * s.atr:
        return make_signal(s, "lod_break", Direction.SHORT, level, max(s.high, s.prev_high), basis="prior-bar high",
                           window_min=30)
    return None


def pdh_break(s: SessionState) -> Signal | None:
    """Long through the prior session's high: the close crossing it (triggered) or within PRIOR_DAY_NEAR_ATR
    below it (forming). Stop: PRIOR_DAY_STOP_ATR back below the level."""
    level, atr = s.history.prior_high, s.atr
    crossed = s.close > level >= s.prev_close
    if crossed or (s.close <= level and level - s.close <= PRIOR_DAY_NEAR_ATR * atr):
        return make_signal(s, "pdh_break", Direction.LONG, level, level - PRIOR_DAY_STOP_ATR * atr,
                           basis="prior-day high less 1/2 ATR", window_min=60)
    return None


def pdl_break(s: SessionState) -> Signal | None:
    """Short mirror of `pdh_break`."""
    level, atr = s.history.prior_low, s.atr
    crossed = s.close < level <= s.prev_close
    if crossed or (s.close >= level and s.close - level <= PRIOR_DAY_NEAR_ATR * atr):
        return make_signal(s, "pdl_break", Direction.SHORT, level, level + PRIOR_DAY_STOP_ATR * atr,
                           basis="prior-day low plus 1/2 ATR", window_min=60)
    return None


def _gap(s: SessionState) -> float:
    prior = s.history.prior_close
    return s.session_open / prior - 1 if prior > 0 and s.minute < GAP_WINDOW_MIN else 0.0


def _day_break(s: SessionState, setup: str, direction: Direction, target: float | None) -> Signal | None:
    """Enter on a new high (long) or low (short) of day with VWAP as the stop."""
    if direction is Direction.LONG:
        level = s.prev_hod if s.close > s.prev_hod else s.hod
        return make_signal(s, setup, Direction.LONG, level, s.vwap, basis="VWAP",
                           window_min=GAP_WINDOW_MIN - s.minute - 1, target=target)
    level = s.prev_lod if s.close < s.prev_lod else s.lod
    return make_signal(s, setup, Direction.SHORT, level, s.vwap, basis="VWAP", window_min=GAP_WINDOW_MIN - s.minute - 1,
                       target=target)


def gap_and_go(s: SessionState) -> Signal | None:
    """A gap of GAP_MIN or more that holds on its side of VWAP: continuation through the high (gap up) or low
    (gap down) of day, stop VWAP."""
    gap = _gap(s)
    if gap >= GAP_MIN and s.close > s.vwap:
        return _day_break(s, "gap_and_go", Direction.LONG, None)
    if gap <= -GAP_MIN and s.close < s.vwap:
        return _day_break(s, "gap_and_go", Direction.SHORT, None)
    return None


def gap_fill(s: SessionState) -> Signal | None:
    """A gap of GAP_MIN or more that loses VWAP: toward the prior close (the structural target) through the
    low (gap up) or high (gap down) of day, stop VWAP."""
    gap = _gap(s)
    if gap >= GAP_MIN and s.close < s.vwap:
        return _day_break(s, "gap_fill", Direction.SHORT, s.history.prior_close)
    if gap <= -GAP_MIN and s.close > s.vwap:
        return _day_break(s, "gap_fill", Direction.LONG, s.history.prior_close)
    return None


def rvol_surge(s: SessionState) -> Signal | None:
    """A bar with SURGE_RATIO x the volume of the same minute in earlier sessions: continuation through its
    high (an up bar) or low (a down bar), stop at its other end."""
    if not s.bar_rvol >= SURGE_RATIO or s.close == s.bar_open:
        return None
    if s.close > s.bar_open:
        return make_signal(s, "rvol_surge", Direction.LONG, s.high, s.low, basis="surge-bar low", window_min=10)
    return make_signal(s, "rvol_surge", Direction.SHORT, s.low, s.high, basis="surge-bar high", window_min=10)


Setup = Callable[[SessionState], Signal | None]
SETUPS: dict[str, Setup] = {
    "orb5": orb5, "orb15": orb15, "orb30": orb30, "vwap_reclaim": vwap_reclaim, "vwap_rejection": vwap_rejection,
    "hod_break": hod_break, "lod_break": lod_break, "pdh_break": pdh_break, "pdl_break": pdl_break,
    "gap_and_go": gap_and_go, "gap_fill": gap_fill, "rvol_surge": rvol_surge,
}
LABELS: dict[str, str] = {
    "orb5": "5-min opening range", "orb15": "15-min opening range", "orb30": "30-min opening range",
    "vwap_reclaim": "VWAP reclaim", "vwap_rejection": "VWAP rejection", "hod_break": "high-of-day break",
    "lod_break": "low-of-day break", "pdh_break": "prior-day high break", "pdl_break": "prior-day low break",
    "gap_and_go": "gap-and-go", "gap_fill": "gap fill", "rvol_surge": "relative-volume surge",
}


def scan(s: SessionState) -> list[Signal]:
    """Every setup present after the last closed bar."""
    if s.bars == 0:
        return []
    return [signal for setup in SETUPS.values() if (signal := setup(s)) is not None]
