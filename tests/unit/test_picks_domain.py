"""Picks: targets, explained confidence, the price-driven lifecycle, and honest scoring (incl. a recording)."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

import pytest

from core.domain.picks import (
    Context,
    Pick,
    PickStatus,
    Scored,
    new_pick,
    on_range,
    refresh,
    score_bars,
    scorecard,
    settle,
    targets_for,
)
from core.domain.setups.rules import Direction, orb5
from core.domain.setups.session import MINUTE_MS
from tests.doubles import FIXTURES_DIR
from tests.unit.picks_series import fold, history
from tests.unit.test_setups import RANGE

LONG, SHORT = Direction.LONG, Direction.SHORT


def _orb_pick(extra_rows: list[tuple[float, float, float, float, float]] | None = None) -> tuple[Pick, int]:
    state = fold([*RANGE, *(extra_rows or [])], history(prior_close=99.5, minute_volume=800))
    signal = orb5(state)
    assert signal is not None
    now = state.end_ms + 5_000
    pick = new_pick("p1", signal, state)
    return settle(pick, state, Context(now_ms=now, bid=100.59, ask=100.61, min_dollar_volume=1e6)), now


def test_targets_are_1r_2r_and_the_structural_target_deduplicated() -> None:
    pick, _ = _orb_pick()
    assert pick.targets == (103.0, 105.0)
    assert pick.r_multiples() == (1.0, 2.0)


def test_a_new_pick_explains_its_confidence_with_bounded_factors() -> None:
    pick, now = _orb_pick()
    names = {f.name for f in pick.confidence.factors}
    assert {"trend", "higher_timeframe", "relative_volume", "distance_to_trigger", "liquidity", "dollar_volume",
            "data_freshness"} <= names
    assert "risk_state" not in names  # unknown risk state is left out, not guessed
    assert all(0 <= f.value <= 1 for f in pick.confidence.factors)
    assert 0 < pick.confidence.score <= 1
    assert pick.why.startswith("TEST 5-min opening range long forming: trigger 101.00, stop 99.00")
    view = pick.view(now)
    assert view.status == "forming" and view.trigger == "101.00" and view.r_multiples == (1.0, 2.0)
    assert view.freshness_s == 5.0 and view.confidence.factors[0].explanation


def test_forming_then_triggered_by_the_tape_then_stopped_scores_minus_one() -> None:
    pick, now = _orb_pick()
    assert not on_range(pick, 100.9, 100.9, now)
    assert on_range(pick, 101.05, 101.05, now + 1) and pick.status is PickStatus.TRIGGERED
    assert pick.triggered_ms == now + 1
    on_range(pick, 102.0, 101.0, now + 2)
    assert pick.mfe_r == pytest.approx(0.5) and pick.reached_1r is None
    assert on_range(pick, 100.0, 98.9, now + 3) and pick.status is PickStatus.INVALIDATED
    assert (pick.reached_1r, pick.result_r, pick.mae_r) == (False, -1.0, 1.0)


def test_reaching_1r_first_scores_plus_one_even_if_stopped_later() -> None:
    pick, now = _orb_pick()
    on_range(pick, 101.1, 101.1, now)
    on_range(pick, 103.2, 101.5, now + 1)
    assert pick.reached_1r is True
    on_range(pick, 99.0, 98.0, now + 2)
    assert pick.status is PickStatus.INVALIDATED and pick.result_r == 1.0


def test_a_forming_pick_through_its_stop_is_invalidated_and_one_past_its_window_expires() -> None:
    pick, now = _orb_pick()
    assert on_range(pick, 99.0, 98.9, now) and pick.status is PickStatus.INVALIDATED and pick.result_r is None
    other, now = _orb_pick()
    assert on_range(other, 100.5, 100.5, other.expires_ms) and other.status is PickStatus.EXPIRED


def test_refresh_moves_a_forming_pick_but_freezes_a_triggered_one() -> None:
    pick, now = _orb_pick()
    state = fold([*RANGE, (100.6, 100.8, 100.4, 100.7, 900)], history(prior_close=99.5))
    signal = orb5(state)
    assert signal is not None
    refresh(pick, signal, state)
    assert pick.stale
    settle(pick, state, Context(now_ms=now))
    assert pick.last == 100.7 and pick.version == 1
    on_range(pick, 101.2, 101.2, now)
    frozen = (pick.trigger, pick.stop, pick.targets)
    refresh(pick, replace(signal, trigger=102.0, stop=98.0), state)
    assert (pick.trigger, pick.stop, pick.targets) == frozen and pick.version == 3


def test_score_bars_on_recorded_aggregates() -> None:
    """AAPL 2020-01-02/03 daily bars (Polygon's documented aggregates): a long through 75.00 with stop 74.50
    triggers on the 3rd (high 75.145) but the same bar trades 74.125: the stop counts first."""
    body = json.loads((FIXTURES_DIR / "polygon" / "docs_aggs_range_AAPL_with_next_url.json").read_text(),
                      parse_float=Decimal)
    bars = [(float(b["h"]), float(b["l"]), float(b["c"])) for b in body["results"]]
    first, second = bars
    prior = history(prior_high=first[0], prior_low=first[1], prior_close=first[2])
    assert (prior.prior_high, prior.prior_close) == (75.15, 75.0875)
    never = score_bars(LONG, prior.prior_high, prior.prior_high - 0.5, [second])  # 75.145 < 75.15
    assert never.triggered is False and never.result_r is None
    outcome = score_bars(LONG, 75.0, 74.5, [second])
    assert outcome.triggered and outcome.reached_1r is False and outcome.result_r == -1.0
    short = score_bars(SHORT, 74.9, 75.9, [second])  # low 74.125 is 0.775 R, close 74.3575 is +0.54 R
    assert short.triggered and short.reached_1r is False
    assert short.mfe_r == pytest.approx(0.775) and short.result_r == pytest.approx(0.5425)


def test_scorecard_hit_rate_and_average_r_per_setup() -> None:
    rows = [Scored("orb5", True, True, 1.0, 1.4, 0.2), Scored("orb5", True, False, -1.0, 0.3, 1.0),
            Scored("orb5", True, False, 0.5, 0.6, 0.1), Scored("orb5", False, None, None, 0, 0),
            Scored("gap_fill", True, None, None, 0.2, 0.1)]
    stats = {s.setup: s for s in scorecard(rows)}
    orb = stats["orb5"]
    assert (orb.picks, orb.triggered, orb.scored, orb.hits) == (4, 3, 3, 1)
    assert orb.hit_rate == pytest.approx(0.333) and orb.avg_r == pytest.approx(0.167)
    assert stats["gap_fill"].scored == 0 and stats["gap_fill"].hit_rate is None


def test_targets_for_a_short_descend() -> None:
    state = fold([*RANGE, (100.6, 100.7, 98.5, 98.7, 3000)])
    signal = orb5(state)
    assert signal is not None and signal.direction is SHORT
    assert targets_for(signal) == (97.0, 95.0)
    assert MINUTE_MS == 60_000
