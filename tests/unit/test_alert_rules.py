"""Alert rules: validation, edge trigger, hysteresis, approach, cooldown, repeat, expiry, snooze, bar closes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from core.domain.alerts import (
    Alert,
    AlertDraft,
    AlertSpec,
    AlertStatus,
    Channel,
    Condition,
    FireKind,
    Observation,
    Repeat,
    Timeframe,
    create,
    describe,
    dismiss,
    edit,
    evaluate,
    hysteresis_band,
    snooze,
    validate,
    watch_points,
)
from core.errors import Invalid

T0 = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)
D = Decimal


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def tick(price: str, t: float = 0, high: str | None = None, low: str | None = None) -> Observation:
    return Observation(D(price), D(high or price), D(low or price), at(t))


def spec(condition: Condition = Condition.PRICE_ABOVE, level: str = "100", **kw: object) -> AlertSpec:
    return replace(AlertSpec("SPY", condition, D(level)), **kw)  # type: ignore[arg-type]


def new(s: AlertSpec, last: str | None = "95") -> Alert:
    return create("a1", s, last_price=None if last is None else D(last)).alert


def run(alert: Alert, *observations: Observation) -> tuple[Alert, list[tuple[FireKind, Decimal]]]:
    fired = []
    for o in observations:
        alert, fire = evaluate(alert, o)
        if fire is not None:
            fired.append((fire.kind, fire.price))
    return alert, fired


# --- validation ---------------------------------------------------------------------------------------------

def draft(**kw: object) -> AlertDraft:
    return replace(AlertDraft("spy", "price_above", "100.5"), **kw)  # type: ignore[arg-type]


def errors_of(d: AlertDraft) -> dict[str, str]:
    with pytest.raises(Invalid) as info:
        validate(d, now=T0)
    return {e["field"]: e["message"] for e in info.value.details["errors"]}


def test_validate_normalises_a_good_draft() -> None:
    s = validate(draft(channels=["slack", "ws", "slack"], threshold_pct="0.5", note="  breakout  ",
                       expires_at=at(60), timeframe="minute", repeat="every", cooldown_sec=300), now=T0)
    assert s == AlertSpec("SPY", Condition.PRICE_ABOVE, D("100.5"), Timeframe.MINUTE, Repeat.EVERY, 300,
                          (Channel.WS, Channel.SLACK), D("0.5"), at(60), "breakout")
    assert validate(s.draft(), now=T0) == s


@pytest.mark.parametrize(("field", "change", "needle"), [
    ("condition", {"condition": "price_cross"}, "condition must be 'price_above' or 'price_below' (got 'price_cross')"),
    ("timeframe", {"timeframe": "hour"}, "timeframe must be 'tick' or 'minute' or 'day'"),
    ("repeat", {"repeat": "twice"}, "repeat must be 'once' or 'every'"),
    ("level", {"level": "0"}, "greater than 0"),
    ("level", {"level": D("-1")}, "greater than 0"),
    ("level", {"level": float("nan")}, "NaN and Infinity are not numbers"),
    ("level", {"level": "inf"}, "NaN and Infinity are not numbers"),
    ("level", {"level": "abc"}, "must be a number greater than 0"),
    ("level", {"level": True}, "must be a number greater than 0"),
    ("threshold_pct", {"threshold_pct": 0}, "greater than 0 and at most 50"),
    ("threshold_pct", {"threshold_pct": "50.01"}, "greater than 0 and at most 50"),
    ("threshold_pct", {"threshold_pct": "NaN"}, "greater than 0 and at most 50"),
    ("expires_at", {"expires_at": T0 - timedelta(seconds=1)}, "in the past"),
    ("expires_at", {"expires_at": T0}, "in the past"),
    ("expires_at", {"expires_at": datetime(2030, 1, 1)}, "timezone"),
    ("channels", {"channels": []}, "at least one"),
    ("channels", {"channels": ["ws", "email"]}, "(got 'email')"),
    ("symbol", {"symbol": "not a symbol"}, "is not a valid symbol"),
    ("symbol", {"symbol": "  "}, "symbol is missing"),
    ("level", {"level": "1,000"}, "without separators"),
    ("cooldown_sec", {"cooldown_sec": -5}, "cooldown_sec"),
    ("note", {"note": "x" * 501}, "longer than 500"),
])
def test_validate_names_the_bad_field(field: str, change: dict[str, object], needle: str) -> None:
    errors = errors_of(draft(**change))
    assert list(errors) == [field]
    assert needle in errors[field]


def test_validate_reports_every_bad_field_at_once() -> None:
    errors = errors_of(draft(condition="x", level=0, channels=[]))
    assert set(errors) == {"condition", "level", "channels"}


def test_threshold_pct_of_50_is_allowed() -> None:
    assert validate(draft(threshold_pct=50), now=T0).approach_level == D("50.25")


def test_hysteresis_band_is_a_tenth_of_a_percent_or_one_tick() -> None:
    assert hysteresis_band(D("500")) == D("0.5")
    assert hysteresis_band(D("5")) == D("0.01")
    assert hysteresis_band(D("0.5")) == D("0.0005")
    assert hysteresis_band(D("0.05")) == D("0.0001")


# --- edge trigger and hysteresis ----------------------------------------------------------------------------

def test_fires_when_the_condition_becomes_true_not_while_it_stays_true() -> None:
    alert, fired = run(new(spec(repeat=Repeat.EVERY)), tick("99"), tick("100", 1), tick("101", 2), tick("100.5", 3))
    assert fired == [(FireKind.CROSSED, D("100"))]
    assert alert.status is AlertStatus.ACTIVE and not alert.armed


def test_rearms_only_past_the_hysteresis_band() -> None:
    band_edge = str(D("100") - hysteresis_band(D("100")))  # 99.9
    alert, fired = run(new(spec(repeat=Repeat.EVERY)), tick("100.2", 1), tick("99.95", 2), tick("100.3", 3))
    assert len(fired) == 1 and not alert.armed  # 99.95 is inside the band: no re-arm, no second fire
    alert, fired = run(alert, tick(band_edge, 4), tick("100.1", 5))
    assert fired == [(FireKind.CROSSED, D("100.1"))]


def test_price_below_mirrors_price_above() -> None:
    _, fired = run(new(spec(Condition.PRICE_BELOW, repeat=Repeat.EVERY), last="105"),
                       tick("100.01"), tick("99.99", 1), tick("100.05", 2), tick("100.1", 3), tick("99", 4))
    assert fired == [(FireKind.CROSSED, D("99.99")), (FireKind.CROSSED, D("99"))]


def test_a_spike_between_two_checks_fires_on_the_high_or_low() -> None:
    _, fired = run(new(spec()), tick("99", 1, high="100.4", low="98"))
    assert fired == [(FireKind.CROSSED, D("100.4"))]
    _, fired = run(new(spec(Condition.PRICE_BELOW), last="101"), tick("101", 1, high="101.5", low="99.7"))
    assert fired == [(FireKind.CROSSED, D("99.7"))]


def test_a_spike_that_came_back_rearms_on_the_last_price() -> None:
    alert, fired = run(new(spec(repeat=Repeat.EVERY)), tick("99", 1, high="101", low="99"))
    assert fired and alert.armed


def test_fired_result_names_kind_price_and_dedupe_key() -> None:
    _, fire = evaluate(new(spec()), tick("100.25", 7))
    assert fire is not None
    assert (fire.kind, fire.price, fire.ts) == (FireKind.CROSSED, D("100.25"), at(7))
    assert fire.dedupe_key == f"a1:crossed:{at(7).isoformat()}"
    assert describe(fire) == "SPY crossed above 100 at 100.25"


# --- creation, edit, snooze ----------------------------------------------------------------------------------

def test_created_when_already_true_says_so_and_waits_for_the_next_crossing() -> None:
    created = create("a1", spec(), last_price=D("101"))
    assert created.already_true and not created.alert.armed
    alert, fired = run(created.alert, tick("101.5"), tick("102", 1))
    assert fired == []
    alert, fired = run(alert, tick("99.5", 2), tick("100", 3))
    assert fired == [(FireKind.CROSSED, D("100"))]
    assert alert.status is AlertStatus.TRIGGERED


def test_created_when_not_true_is_armed_and_unknown_price_arms() -> None:
    assert not create("a1", spec(), last_price=D("99")).already_true
    unknown = create("a1", spec(threshold_pct=D(1)), last_price=None)
    assert not unknown.already_true and unknown.alert.armed and unknown.alert.approach_armed


def test_edit_keeps_history_and_rearms_like_a_creation() -> None:
    alert, _ = run(new(spec(repeat=Repeat.EVERY)), tick("100", 1))
    edited = edit(alert, spec(level="110", repeat=Repeat.EVERY), last_price=D("101"))
    assert not edited.already_true and edited.alert.armed
    assert edited.alert.first_triggered_at == at(1)
    triggered, _ = run(new(spec()), tick("100", 1))
    assert edit(triggered, spec(level="120"), last_price=D("101")).alert.status is AlertStatus.ACTIVE


def test_snoozed_alert_is_silent_then_wakes_like_a_creation() -> None:
    alert = snooze(new(spec(repeat=Repeat.EVERY)), at(900))
    alert, fired = run(alert, tick("101", 1), tick("99", 2), tick("101", 3))
    assert fired == [] and alert.status is AlertStatus.SNOOZED
    alert, fired = run(alert, tick("101", 900))  # wakes with the condition already true: no fire
    assert fired == [] and alert.status is AlertStatus.ACTIVE and not alert.armed
    _, fired = run(alert, tick("99", 901), tick("100", 902))
    assert fired == [(FireKind.CROSSED, D("100"))]


def test_only_live_alerts_snooze_and_dismissed_is_final() -> None:
    gone = dismiss(new(spec()))
    assert run(gone, tick("150"))[1] == []
    with pytest.raises(Invalid):
        snooze(gone, at(60))


# --- approaching -------------------------------------------------------------------------------------------------

def test_approaching_fires_inside_threshold_then_crossed() -> None:
    s = spec(threshold_pct=D(2))  # approach level 98
    assert s.approach_level == D("98")
    alert, fired = run(new(s), tick("97.5"), tick("98", 1), tick("99", 2), tick("100", 3))
    assert fired == [(FireKind.APPROACHING, D("98")), (FireKind.CROSSED, D("100"))]
    assert alert.first_triggered_at == at(1) and alert.last_triggered_at == at(3)


def test_approaching_message_and_below_side() -> None:
    s = spec(Condition.PRICE_BELOW, threshold_pct=D("0.5"))  # approach level 100.5
    _, fire = evaluate(new(s, last="103"), tick("100.4", 1))
    assert fire is not None and fire.kind is FireKind.APPROACHING
    assert describe(fire) == "SPY approaching 100 (within 0.5%) at 100.4"


def test_a_jump_straight_through_fires_crossed_only() -> None:
    alert, fired = run(new(spec(threshold_pct=D(2), repeat=Repeat.EVERY)), tick("101"), tick("98.5", 1))
    assert fired == [(FireKind.CROSSED, D("101"))]
    assert not alert.approach_armed


def test_approach_once_fires_once_and_every_rearms() -> None:
    moves = (tick("98.5", 1), tick("97", 2), tick("98.5", 3))
    _, fired = run(new(spec(threshold_pct=D(2))), *moves)
    assert fired == [(FireKind.APPROACHING, D("98.5"))]
    _, fired = run(new(spec(threshold_pct=D(2), repeat=Repeat.EVERY)), *moves)
    assert fired == [(FireKind.APPROACHING, D("98.5"))] * 2


def test_created_inside_the_approach_zone_does_not_fire_approaching() -> None:
    _, fired = run(new(spec(threshold_pct=D(2)), last="99"), tick("99.5"), tick("100", 1))
    assert fired == [(FireKind.CROSSED, D("100"))]


# --- repeat, cooldown, expiry -----------------------------------------------------------------------------------

def test_repeat_once_ends_the_alert() -> None:
    alert, fired = run(new(spec()), tick("100"), tick("90", 1), tick("100", 2))
    assert len(fired) == 1 and alert.status is AlertStatus.TRIGGERED
    assert watch_points(alert) == ()


def test_repeat_every_with_cooldown_swallows_an_early_crossing() -> None:
    alert = new(spec(repeat=Repeat.EVERY, cooldown_sec=60))
    alert, fired = run(alert, tick("100", 0), tick("99", 10), tick("100", 20))
    assert len(fired) == 1 and not alert.armed  # swallowed: disarmed, no fire
    alert, fired = run(alert, tick("101", 70))
    assert fired == []  # still disarmed: the swallowed crossing was the edge
    alert, fired = run(alert, tick("99", 80), tick("100", 90))
    assert fired == [(FireKind.CROSSED, D("100"))]


def test_cooldown_is_per_kind() -> None:
    alert = new(spec(threshold_pct=D(2), repeat=Repeat.EVERY, cooldown_sec=600))
    _, fired = run(alert, tick("98.5", 0), tick("100", 5))
    assert [k for k, _ in fired] == [FireKind.APPROACHING, FireKind.CROSSED]


def test_expiry_wins_over_a_fire() -> None:
    alert = new(spec(expires_at=at(60)))
    alert, fired = run(alert, tick("99", 59))
    assert alert.status is AlertStatus.ACTIVE
    alert, fired = run(alert, tick("100", 60))
    assert fired == [] and alert.status is AlertStatus.EXPIRED
    assert run(alert, tick("99", 61), tick("101", 62)) == (alert, [])


def test_unchanged_alert_is_returned_as_is() -> None:
    alert = new(spec(threshold_pct=D(1)))
    assert evaluate(alert, tick("95", 1))[0] is alert


# --- minute and day closes -------------------------------------------------------------------------------------

def test_minute_alert_uses_the_close_of_each_completed_bar() -> None:
    alert = new(spec(timeframe=Timeframe.MINUTE, repeat=Repeat.EVERY))
    closes = ["99.5", "100.2", "100.4", "99.8", "100"]
    alert, fired = run(alert, *(Observation.close(D(c), at(60 * (i + 1))) for i, c in enumerate(closes)))
    assert fired == [(FireKind.CROSSED, D("100.2")), (FireKind.CROSSED, D("100"))]


def test_day_alert_uses_the_daily_close_not_the_intraday_spike() -> None:
    alert = new(spec(Condition.PRICE_BELOW, level="50", timeframe=Timeframe.DAY), last="52")
    alert, fired = run(alert, Observation.close(D("50.10"), at(86400)))  # intraday low 49 is not looked at
    assert fired == []
    _, fired = run(alert, Observation.close(D("49.90"), at(2 * 86400)))
    assert fired == [(FireKind.CROSSED, D("49.90"))]
