"""Next-best-action chips built from a fire and its context."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from core.domain.action_refs import PlanDraft
from core.domain.actions import ActionContext, ActionKind, NextAction, next_actions
from core.domain.alerts import AlertSpec, Condition, Fired, FireKind, Observation, Repeat, create, evaluate
from core.domain.orders import OrderClass, OrderDuration, OrderSide, OrderType, Position
from core.domain.risk import TradingStatus
from tests.wire import chips_json

D = Decimal
T0 = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)


def fire(condition: Condition = Condition.PRICE_ABOVE, price: str = "100.40", *, approaching: bool = False,
         repeat: Repeat = Repeat.ONCE) -> Fired:
    spec = AlertSpec("SPY", condition, D(100), repeat=repeat, threshold_pct=D(1) if approaching else None)
    start = D(90) if condition is Condition.PRICE_ABOVE else D(110)
    _, fired = evaluate(create("a1", spec, last_price=start).alert, Observation.close(D(price), T0))
    assert fired is not None and (fired.kind is FireKind.APPROACHING) == approaching
    return fired


def ids(actions: tuple[NextAction, ...]) -> list[str]:
    return [a.id for a in actions]


def by_id(actions: tuple[NextAction, ...], chip: str) -> NextAction:
    return next(a for a in actions if a.id == chip)


LONG = Position("SPY", D(10), D(950))  # average 95
SHORT = Position("SPY", D(-10), D(-1050))  # average 105


def fixed_size(entry: Decimal, stop: Decimal) -> Decimal:
    return (D(100) / abs(entry - stop)).to_integral_value(rounding="ROUND_FLOOR")


def test_long_position_and_breakout_trims_and_moves_stop_to_breakeven() -> None:
    actions = next_actions(fire(), ActionContext(position=LONG))
    assert ids(actions) == ["trim", "breakeven", "dismiss"]
    trim, breakeven = by_id(actions, "trim").order, by_id(actions, "breakeven").order
    assert trim is not None and (trim.side, trim.quantity, trim.type, trim.price) == (
        OrderSide.SELL, D(5), OrderType.LIMIT, D(100))
    assert by_id(actions, "trim").percent == D(50)  # the chip says how much it exits: 5 of 10
    assert breakeven is not None and (breakeven.side, breakeven.quantity, breakeven.type, breakeven.stop,
                                      breakeven.duration) == (OrderSide.SELL, D(10), OrderType.STOP, D("95.00"),
                                                              OrderDuration.GTC)


def test_short_position_and_breakdown_covers_half() -> None:
    actions = next_actions(fire(Condition.PRICE_BELOW, "99.50"), ActionContext(position=SHORT))
    trim = by_id(actions, "trim").order
    assert trim is not None and (trim.side, trim.quantity) == (OrderSide.BUY_TO_COVER, D(5))


def test_move_against_the_position_offers_the_exit() -> None:
    actions = next_actions(fire(Condition.PRICE_BELOW, "99.50"), ActionContext(position=LONG))
    assert ids(actions) == ["exit", "trim", "dismiss"]
    exit_order = by_id(actions, "exit").order
    assert exit_order is not None and (exit_order.side, exit_order.quantity, exit_order.type) == (
        OrderSide.SELL, D(10), OrderType.MARKET)


def test_chips_the_position_rules_refuse_are_left_out() -> None:
    one_share_under_water = Position("SPY", D(1), D(105))
    assert ids(next_actions(fire(), ActionContext(position=one_share_under_water))) == ["dismiss"]


def test_no_position_breakout_takes_the_setup_sized_by_the_sizer() -> None:
    actions = next_actions(fire(), ActionContext(size=fixed_size))
    assert ids(actions) == ["setup", "dismiss"]
    chip = actions[0]
    assert chip.label == "Take setup (1R)" and chip.kind is ActionKind.ORDER
    assert chip.plan == PlanDraft("SPY", "long", "100.40", "99.00", ("103.20",))
    assert chip.order is not None
    assert (chip.order.side, chip.order.quantity, chip.order.type, chip.order.price) == (
        OrderSide.BUY, D(71), OrderType.LIMIT, D("100.40"))
    # the setup carries its stop, and a target at the default 2R: 100.40 + 2 x (100.40 - 99.00)
    assert (chip.order.order_class, chip.order.stop_loss, chip.order.take_profit) == (
        OrderClass.OTOCO, D("99.00"), D("103.20"))


def test_the_setup_target_follows_the_traders_reward_risk_setting() -> None:
    chip = next_actions(fire(), ActionContext(size=fixed_size, reward_risk=D(3)))[0]
    assert chip.order is not None and chip.order.take_profit == D("104.60")  # 100.40 + 3 x 1.40
    short = next_actions(fire(Condition.PRICE_BELOW, "99.50"), ActionContext(size=fixed_size))[0]
    assert short.order is not None and short.order.side is OrderSide.SELL_SHORT
    assert short.order.stop_loss is not None and short.order.take_profit is not None
    assert short.order.take_profit < short.order.price < short.order.stop_loss  # type: ignore[operator]


def test_no_position_breakdown_sets_up_a_short() -> None:
    chip = next_actions(fire(Condition.PRICE_BELOW, "99.50"), ActionContext(size=fixed_size))[0]
    assert chip.order is not None and chip.order.side is OrderSide.SELL_SHORT
    assert chip.plan is not None and (chip.plan.side, chip.plan.stop) == ("short", "101.00")


@pytest.mark.parametrize("sizer", [None, lambda entry, stop: D(0)])
def test_unsized_setup_becomes_a_plan_chip(sizer: object) -> None:
    chip = next_actions(fire(), ActionContext(size=sizer))[0]  # type: ignore[arg-type]
    assert (chip.id, chip.kind, chip.order) == ("plan", ActionKind.PLAN, None)
    assert chip.plan is not None and chip.plan.entry == "100.40"


def test_approaching_sets_a_limit_at_the_level_and_offers_snooze() -> None:
    fired = fire(price="99.20", approaching=True)
    actions = next_actions(fired, ActionContext(size=fixed_size))
    assert ids(actions) == ["limit", "snooze", "dismiss"]
    limit = actions[0].order
    assert limit is not None and (limit.side, limit.type, limit.price) == (OrderSide.SELL_SHORT, OrderType.LIMIT,
                                                                           D(100))
    assert actions[1].label == "Snooze 15m" and actions[1].snooze_sec == 900
    held = next_actions(fired, ActionContext(position=LONG))
    exit_limit = held[0].order
    assert held[0].label == "Set limit at level"
    assert exit_limit is not None and (exit_limit.side, exit_limit.quantity, exit_limit.price) == (
        OrderSide.SELL, D(10), D(100))


def test_approaching_against_the_position_sets_a_stop() -> None:
    actions = next_actions(fire(Condition.PRICE_BELOW, "100.80", approaching=True), ActionContext(position=LONG))
    stop = actions[0].order
    assert actions[0].label == "Set stop at level"
    assert stop is not None and (stop.side, stop.type, stop.stop, stop.quantity) == (
        OrderSide.SELL, OrderType.STOP, D(100), D(10))


def test_repeating_alert_can_be_snoozed_after_a_crossing() -> None:
    assert ids(next_actions(fire(repeat=Repeat.EVERY), ActionContext(position=LONG))) == [
        "trim", "breakeven", "snooze", "dismiss"]


def test_risk_state_gates_orders() -> None:
    assert ids(next_actions(fire(), ActionContext(position=LONG, risk_status=TradingStatus.HALTED))) == ["dismiss"]
    reduce_only = ActionContext(position=LONG, risk_status=TradingStatus.REDUCE_ONLY)
    assert ids(next_actions(fire(), reduce_only)) == ["trim", "breakeven", "dismiss"]
    no_new_risk = ActionContext(size=fixed_size, risk_status=TradingStatus.REDUCE_ONLY)
    assert ids(next_actions(fire(), no_new_risk)) == ["dismiss"]


def test_without_a_broker_order_chips_say_so() -> None:
    actions = next_actions(fire(price="99.20", approaching=True), ActionContext(size=fixed_size,
                                                                                broker_configured=False))
    assert [(a.id, a.needs) for a in actions] == [("limit", "broker"), ("snooze", None), ("dismiss", None)]


def test_chips_serialise_to_json_ready_dicts() -> None:
    payload = chips_json(next_actions(fire(), ActionContext(size=fixed_size, broker_configured=False)))
    assert json.loads(json.dumps(payload)) == payload
    assert payload == [
        {"id": "setup", "label": "Take setup (1R)", "kind": "order", "needs": "broker",
         "order": {"symbol": "SPY", "side": "buy", "quantity": "71", "type": "limit", "duration": "day",
                   "class": "otoco", "price": "100.40", "take_profit": "103.20", "stop_loss": "99.00"},
         "plan": {"symbol": "SPY", "side": "long", "entry": "100.40", "stop": "99.00", "targets": ["103.20"]}},
        {"id": "dismiss", "label": "Dismiss", "kind": "dismiss"},
    ]
