"""POST /api/v1/actions against the Tradier double: every click by reference, the setup taken as a bracket that
is placed as one order after one confirm, and the errors a surface can show (403, 404, 422)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from api.app import create_app
from core.runtime import Runtime
from core.settings import Settings
from tests.conftest import serving
from tests.doubles.tradier import TradierDouble
from tests.integration.actions_helpers import chip_ids, stored_fire
from tests.integration.orders_helpers import broker_settings, place_posts, unthrottled

ActionsApp = tuple[httpx.AsyncClient, Runtime]


@pytest.fixture
async def actions_app(make_settings: Callable[..., Settings], database_url: str,
                      tradier: TradierDouble) -> AsyncIterator[ActionsApp]:
    app = create_app(broker_settings(make_settings, database_url, tradier), roles=frozenset({"api"}))
    async with serving(app) as http:
        yield http, unthrottled(app.state.runtime)


async def act(http: httpx.AsyncClient, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    response = await http.post("/api/v1/actions", json=body)
    assert response.status_code == status, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_take_setup_from_an_alert_places_one_otoco_after_one_confirm(actions_app: ActionsApp,
                                                                        tradier: TradierDouble) -> None:
    http, rt = actions_app
    fire = await stored_fire(rt, "MSFT", "price_above", "35.00", "35.47")
    assert fire["meta"]["trigger_id"] == fire["trigger_id"] and chip_ids(fire) == ["setup", "snooze", "dismiss"]
    [history] = (await http.get(f"/api/v1/alerts/{fire['alert_id']}/triggers")).json()["items"]
    assert history["meta"]["trigger_id"] == fire["trigger_id"]  # what the dashboard executes a chip by
    outcome = await act(http, {"target": "alert", "id": fire["trigger_id"], "action": "setup"})
    assert (outcome["target"], outcome["action"], outcome["kind"]) == ("alert", "setup", "proposal")
    bracket = outcome["bracket"]
    # entry at the fire, stop 1% beyond the level, target at the default 2R
    assert {k: bracket[k] for k in ("order_class", "side", "entry", "stop", "target")} == {
        "order_class": "otoco", "side": "buy", "entry": "35.47", "stop": "34.65", "target": "37.11"}
    quantity = int(bracket["quantity"])
    assert quantity > 0 and bracket["one_r_dollars"] == f"{quantity * 0.82:.2f}"
    proposal = outcome["proposal"]
    assert proposal["risk"]["decision"] == "approved" and "the stop caps the loss" in proposal["risk"]["reason"]
    assert set(proposal) == {"intent", "preview", "risk", "token", "mode"}
    assert "1R = $" in outcome["message"] and outcome["effect"] is None and outcome["plan"] is None
    assert place_posts(tradier) == []

    confirm = await http.post(f"/api/v1/broker/orders/{proposal['intent']['id']}/confirm",
                              json={"token": proposal["token"]})
    assert confirm.status_code == 200, confirm.text
    [post] = place_posts(tradier)
    assert (post.form["class"], post.form["type[0]"], post.form["price[0]"], post.form["stop[2]"],
            post.form["price[1]"]) == ("otoco", "limit", "35.47", "34.65", "37.11")
    assert len(tradier.orders) == 1


async def test_plan_take_without_a_target_places_one_oto(actions_app: ActionsApp, tradier: TradierDouble) -> None:
    http, _ = actions_app
    outcome = await act(http, {"target": "plan", "action": "take",
                               "plan": {"symbol": "MSFT", "side": "long", "entry": 35.4, "stop": "34.9"}})
    assert outcome["bracket"]["order_class"] == "oto" and outcome["bracket"]["target"] is None
    assert outcome["proposal"]["intent"]["order"]["stop_loss"] == "34.9"
    proposal = outcome["proposal"]
    confirm = await http.post(f"/api/v1/broker/orders/{proposal['intent']['id']}/confirm",
                              json={"token": proposal["token"]})
    assert confirm.status_code == 200, confirm.text
    [post] = place_posts(tradier)
    assert (post.form["class"], post.form["side[1]"], post.form["type[1]"]) == ("oto", "sell", "stop")


async def test_snooze_uses_the_chips_own_duration_and_dismiss_dismisses(actions_app: ActionsApp) -> None:
    http, rt = actions_app
    fire = await stored_fire(rt, "MSFT", "price_above", "35.00", "35.47")
    outcome = await act(http, {"target": "alert", "id": fire["trigger_id"], "action": "snooze"})
    alert = await rt.alerts.get(fire["alert_id"])
    assert outcome["kind"] == "snoozed" and outcome["snoozed_until"] == alert.snoozed_until
    assert "15 minutes" in outcome["message"]
    outcome = await act(http, {"target": "alert", "id": fire["trigger_id"], "action": "dismiss"})
    assert outcome["kind"] == "dismissed" and (await rt.alerts.get(fire["alert_id"])).status == "dismissed"


async def test_position_chips_and_buttons_reduce_the_live_position(actions_app: ActionsApp) -> None:
    http, rt = actions_app
    fire = await stored_fire(rt, "AAPL", "price_above", "430.00", "438.89")  # 2 AAPL held, in their favour
    assert chip_ids(fire) == ["trim", "breakeven", "snooze", "dismiss"]
    trim = await act(http, {"target": "alert", "id": fire["trigger_id"], "action": "trim"})
    order = trim["proposal"]["intent"]["order"]
    assert (order["side"], order["quantity"], order["type"], float(order["price"])) == ("sell", "1", "limit", 430)
    assert trim["proposal"]["risk"]["reason"] == "reduces an open position" and trim["bracket"] is None
    close = await act(http, {"target": "position", "id": "AAPL", "action": "close"})
    assert close["proposal"]["intent"]["order"]["quantity"] == "2"


async def test_a_chip_that_cannot_be_sized_opens_the_planner(actions_app: ActionsApp) -> None:
    http, rt = actions_app
    fire = await stored_fire(rt, "MSFT", "price_above", "35.00", "35.47")
    await rt.settings_service.update({"risk": {"risk_per_trade_pct": 0.001}}, actor="api")  # buys no share now
    outcome = await act(http, {"target": "alert", "id": fire["trigger_id"], "action": "setup"})
    assert outcome["kind"] == "plan" and outcome["proposal"] is None
    assert outcome["plan"] == {"symbol": "MSFT", "side": "long", "entry": "35.47", "stop": "34.65",
                               "targets": ["37.11"]}


async def test_bad_references_are_4xx_with_what_to_fix(actions_app: ActionsApp) -> None:
    http, rt = actions_app
    fire = await stored_fire(rt, "MSFT", "price_above", "35.00", "35.47")
    missing = await act(http, {"target": "alert", "id": "f" * 32, "action": "setup"}, 404)
    assert missing["error"]["code"] == "not_found"
    unknown = await act(http, {"target": "alert", "id": fire["trigger_id"], "action": "trim"}, 422)
    assert "offers setup, snooze, dismiss" in unknown["error"]["message"]
    await act(http, {"target": "pick", "id": "p1", "action": "explain"}, 422)
    await act(http, {"target": "position", "id": "TSLA", "action": "close"}, 404)
    await act(http, {"target": "position", "id": "AAPL", "action": "spin"}, 422)
    unlisted = await act(http, {"target": "position", "id": "AAPL", "action": "collar"}, 422)
    assert "no listed AAPL expiration 30 or more days out" in unlisted["error"]["message"]
    await act(http, {"target": "plan", "action": "take", "plan": {"symbol": "MSFT", "side": "up", "entry": "1",
                                                                 "stop": "2"}}, 422)
    no_plan = await act(http, {"target": "plan", "action": "take"}, 422)
    assert "needs the plan" in no_plan["error"]["message"]
    no_id = await act(http, {"target": "position", "action": "close"}, 422)
    assert "needs the id of the position" in no_id["error"]["message"]
    await act(http, {"target": "order", "id": "x", "action": "close"}, 422)


async def test_a_non_trader_is_refused_before_anything_is_read(make_settings: Callable[..., Settings],
                                                               database_url: str, tradier: TradierDouble) -> None:
    app = create_app(broker_settings(make_settings, database_url, tradier, traders=["discord:1"]),
                     roles=frozenset({"api"}))
    async with serving(app) as http:
        before = len(tradier.requests)
        refused = await act(http, {"target": "position", "id": "AAPL", "action": "close"}, 403)
    assert "TRADERS" in refused["error"]["message"] and len(tradier.requests) == before
