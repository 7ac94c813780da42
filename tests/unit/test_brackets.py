"""Setups taken as brackets: otoco with a target, oto without; their rules, 1R, the risk gate's view of them,
and the Tradier form of each."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from core.adapters.tradier.forms import order_form
from core.domain.access import Action
from core.domain.action_refs import ActionRef, PlanDraft, Target
from core.domain.brackets import Bracket, bracket_order, default_target, one_r
from core.domain.orders import Balances, OrderClass, OrderRequest, OrderSide, OrderType, validate_order_request
from core.domain.risk import AccountSnapshot, Approved, Denied, RiskLimits, check_order, evaluate_risk
from core.errors import Invalid

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_the_default_target_is_rr_times_the_risk_beyond_the_entry() -> None:
    assert default_target(D("100.40"), D("99.00"), D(2)) == D("103.20")
    assert default_target(D("50"), D("51"), D("1.5")) == D("48.50")  # short: below the entry


def test_a_setup_with_a_target_is_otoco_and_without_one_oto() -> None:
    otoco = bracket_order("SPY", long=True, quantity=D(10), entry=D(100), stop=D(98), target=D(104))
    oto = bracket_order("SPY", long=False, quantity=D(10), entry=D(100), stop=D(102), target=None)
    assert (otoco.order_class, otoco.side, otoco.type, otoco.price, otoco.stop_loss, otoco.take_profit) == (
        OrderClass.OTOCO, OrderSide.BUY, OrderType.LIMIT, D(100), D(98), D(104))
    assert (oto.order_class, oto.side, oto.stop_loss, oto.take_profit) == (OrderClass.OTO, OrderSide.SELL_SHORT,
                                                                           D(102), None)
    stop_entry = bracket_order("SPY", long=True, quantity=D(1), entry=D(101), stop=D(99), target=D(103),
                               entry_type=OrderType.STOP)
    assert (stop_entry.type, stop_entry.price, stop_entry.stop) == (OrderType.STOP, None, D(101))


def test_one_r_is_quantity_times_the_distance_to_the_stop() -> None:
    order = bracket_order("SPY", long=True, quantity=D(125), entry=D("35.47"), stop=D("34.65"), target=None)
    assert one_r(order) == D("102.50")
    assert Bracket.of(order).to_dict() == {"order_class": "oto", "side": "buy", "quantity": "125",
                                           "entry": "35.47", "stop": "34.65", "target": None,
                                           "one_r_dollars": "102.50"}
    with pytest.raises(Invalid, match="no stop-loss"):
        one_r(OrderRequest("SPY", OrderSide.BUY, D(1), OrderType.LIMIT, price=D(1)))


@pytest.mark.parametrize(("changes", "error"), [
    ({"stop_loss": D(101)}, "stop_loss 101 must be below the entry 100"),
    ({"take_profit": D(105)}, "an oto order has no take_profit"),
    ({"stop_loss": None}, "an oto order needs stop_loss"),
    ({"type": OrderType.MARKET, "price": None}, "a bracket's entry is a limit, stop or stop_limit order"),
    ({"order_class": OrderClass.EQUITY}, "take_profit and stop_loss belong to bracket orders"),
])
def test_broken_brackets_are_refused_with_the_rule(changes: dict[str, object], error: str) -> None:
    fields: dict[str, object] = {"symbol": "SPY", "side": OrderSide.BUY, "quantity": D(1), "type": OrderType.LIMIT,
                                 "order_class": OrderClass.OTO, "price": D(100), "stop_loss": D(98)}
    fields.update(changes)
    with pytest.raises(Invalid, match=error):
        validate_order_request(OrderRequest(**fields))  # type: ignore[arg-type]


def test_the_oto_form_indexes_both_legs_and_shares_the_duration() -> None:
    order = bracket_order("SPY", long=True, quantity=D(10), entry=D("410.50"), stop=D(405), target=None)
    assert order_form(order, tag="t-1") == [
        ("class", "oto"), ("duration", "day"),
        ("symbol[0]", "SPY"), ("side[0]", "buy"), ("quantity[0]", "10"), ("type[0]", "limit"),
        ("price[0]", "410.50"),
        ("symbol[1]", "SPY"), ("side[1]", "sell"), ("quantity[1]", "10"), ("type[1]", "stop"), ("stop[1]", "405"),
        ("tag", "t-1")]


def _check(order: OrderRequest, *, realized: D = D(0)) -> Approved | Denied:
    account = AccountSnapshot(Balances(D(100_000), D(100_000), D(100_000), realized_pnl_today=realized))
    return check_order(order, evaluate_risk(RiskLimits(), account, NOW), account, price=D(100))


def test_the_risk_gate_bounds_a_bracket_by_its_stop() -> None:
    order = bracket_order("SPY", long=True, quantity=D(100), entry=D(100), stop=D(98), target=D(104))
    approved = _check(order)
    assert isinstance(approved, Approved) and approved.max_loss == D("200.00")  # 100 x (100 - 98)
    denied = _check(order, realized=D(-400))  # $100 left of the $500 daily loss limit
    assert isinstance(denied, Denied) and denied.code == "bracket_loss"
    assert denied.reason == "the stop would lose $200.00, more than the $100.00 left of today's daily loss limit"


def test_a_reference_names_what_it_acts_on_and_what_access_it_needs() -> None:
    assert ActionRef(Target.ALERT, "snooze", "t1").access is Action.ALERT_WRITE
    assert ActionRef(Target.ALERT, "setup", "t1").access is Action.ORDER_PROPOSE
    assert ActionRef(Target.PICK, "alert", "p1").access is Action.ALERT_WRITE
    assert ActionRef(Target.PLAN, "take", plan=PlanDraft("SPY", "long", "100", "98")).access is Action.ORDER_PROPOSE
    with pytest.raises(Invalid, match="unknown pick action 'explain'"):
        ActionRef(Target.PICK, "explain", "p1")
    with pytest.raises(Invalid, match="needs the plan"):
        ActionRef(Target.PLAN, "take")
    with pytest.raises(Invalid, match="needs the id of the position"):
        ActionRef(Target.POSITION, "trim")
