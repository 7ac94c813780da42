"""The pick actions through REST against the Polygon, Tradier and OpenAI-compatible doubles: alert at the trigger,
take the setup (a bracket intent that waits for confirmation, sized from the broker's equity), explain (the coach
starts from the pick as a tool result)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from api.app import create_app
from core.domain.pick_views import PickSize, PickView
from core.domain.setups.session import MINUTE_MS, session_open_ms
from core.engines.picks import PicksEngine
from core.services.picks import PicksPage
from core.settings import Settings
from tests.conftest import serving
from tests.doubles.llm import OpenAIDouble, answer, call, tool_calls
from tests.doubles.polygon import PolygonDouble
from tests.doubles.tradier import TradierDouble
from tests.integration.orders_helpers import broker_settings, place_posts, unthrottled
from tests.integration.test_api_market import polygon_settings
from tests.unit.picks_series import minute_bars
from tests.unit.test_setups import RANGE


@pytest.fixture
async def openai() -> AsyncIterator[OpenAIDouble]:
    async with OpenAIDouble() as server:
        yield server


@pytest.fixture
async def picks_app(make_settings: Callable[..., Settings], database_url: str, pg: PolygonDouble,
                    tradier: TradierDouble, openai: OpenAIDouble) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    polygon = polygon_settings(make_settings, pg).polygon
    settings = broker_settings(make_settings, database_url, tradier, polygon=polygon, watchlist=["AAPL"],
                               llm={"base_url": openai.base_url, "api_key": "sk-test", "model": "coach-model"})
    quote_msft_where_the_session_trades(tradier)
    app = create_app(settings, roles=frozenset({"api", "engine"}))
    async with serving(app) as http:
        unthrottled(app.state.runtime)
        yield http, app.state.runtime


def quote_msft_where_the_session_trades(tradier: TradierDouble) -> None:
    """Orders are valued against the broker's quote: it must be near the scripted session's prices."""
    tradier.quotes["MSFT"] = {**tradier.quotes["MSFT"], "last": 100.5, "bid": 100.49, "ask": 100.51}


async def _orb_pick(engine: PicksEngine) -> str:
    """Today's first five minutes through the engine's scanner (as closed stream bars would go)."""
    await asyncio.wait_for(engine.ready.wait(), 10)
    day = datetime.now(UTC).date()
    engine.clock = lambda: session_open_ms(day) + 5 * MINUTE_MS + 1_000
    for bar in minute_bars(RANGE, day=day):
        engine.scanner.on_bar("MSFT", bar)
    return next(p.id for p in engine.scanner.ranked(limit=50) if p.setup == "orb5")


async def test_a_listed_pick_is_sized_from_the_broker(picks_app: tuple[httpx.AsyncClient, Any]) -> None:
    http, runtime = picks_app
    pick_id = await _orb_pick(runtime.picks_engine)
    body = (await http.get("/api/v1/picks", params={"symbol": "MSFT", "setup": "orb5"})).json()
    [pick] = body["items"]
    assert pick["id"] == pick_id and pick["size_note"] is None
    size = pick["size"]
    assert size["quantity"] > 0 and size["limited_by"] in {"risk_budget", "buying_power", "max_position_pct",
                                                           "max_order_notional"}
    assert float(size["one_r_dollars"]) == pytest.approx(size["quantity"] * 2.0)  # 1R = 101 - 99 per share


async def test_alert_at_trigger_creates_a_price_alert(picks_app: tuple[httpx.AsyncClient, Any]) -> None:
    http, runtime = picks_app
    pick_id = await _orb_pick(runtime.picks_engine)
    response = await http.post(f"/api/v1/picks/{pick_id}/alert")
    assert response.status_code == 201, response.text
    alert = response.json()
    assert (alert["symbol"], alert["condition"], alert["level"]) == ("MSFT", "price_above", "101.00")
    assert pick_id in alert["note"]
    listed = (await http.get("/api/v1/alerts")).json()
    assert alert["id"] in {a["id"] for a in (listed["items"] if isinstance(listed, dict) else listed)}


async def test_take_setup_proposes_a_bracket_that_waits_for_confirmation(
        picks_app: tuple[httpx.AsyncClient, Any], tradier: TradierDouble) -> None:
    http, runtime = picks_app
    pick_id = await _orb_pick(runtime.picks_engine)
    response = await http.post(f"/api/v1/picks/{pick_id}/take")
    assert response.status_code == 201, response.text
    body = response.json()
    order = body["intent"]["order"]
    assert (order["class"], order["side"], order["type"], order["stop"]) == ("otoco", "buy", "stop", "101.00")
    assert (order["take_profit"], order["stop_loss"]) == ("103.00", "99.00")
    assert body["token"] and body["intent"]["status"] == "PENDING"
    assert pick_id in body["intent"]["rationale"]
    assert place_posts(tradier) == []  # nothing is sent before the trader confirms


async def test_explain_gives_the_coach_the_pick_as_a_tool_result(
        picks_app: tuple[httpx.AsyncClient, Any], openai: OpenAIDouble) -> None:
    http, runtime = picks_app
    pick_id = await _orb_pick(runtime.picks_engine)
    openai.push(answer("The range is tight and the trigger is close; the stop is the range low."))
    response = await http.post(f"/api/v1/picks/{pick_id}/explain")
    assert response.status_code == 200, response.text
    assert response.json()["content"].startswith("The range is tight")
    messages = openai.requests[-1].body["messages"]
    tool = next(m for m in messages if m["role"] == "tool")
    assert json.loads(tool["content"])["data"]["picks"][0]["id"] == pick_id
    assert any(m["role"] == "assistant" and m.get("tool_calls") for m in messages)


async def test_the_coach_picks_tool_returns_real_picks(picks_app: tuple[httpx.AsyncClient, Any],
                                                        openai: OpenAIDouble) -> None:
    http, runtime = picks_app
    pick_id = await _orb_pick(runtime.picks_engine)
    openai.push(tool_calls(call("picks", {"limit": 20})), answer("The top pick is an opening-range breakout."))
    response = await http.post("/api/v1/coach/chat", json={"message": "What are the best setups right now?"})
    assert response.status_code == 200, response.text
    tool = next(m for m in openai.requests[-1].body["messages"] if m["role"] == "tool")
    data = json.loads(tool["content"])["data"]
    assert "error" not in data
    assert pick_id in {p["id"] for p in data["picks"]}
    assert all({"trigger", "stop", "confidence", "size"} <= set(p) for p in data["picks"])


async def test_option_picks_express_each_live_pick_as_its_best_contract(
        picks_app: tuple[httpx.AsyncClient, Any]) -> None:
    http, runtime = picks_app
    pick_id = await _orb_pick(runtime.picks_engine)
    runtime.options.clock = lambda: datetime(2013, 6, 3, 15, tzinfo=UTC)  # the recorded expirations are June 2013
    response = await http.get("/api/v1/options/picks", params={"limit": 10, "dte_max": 5, "equity": 100_000})
    assert response.status_code == 200, response.text
    [item] = [i for i in response.json()["items"] if i["pick_id"] == pick_id]
    assert (item["symbol"], item["direction"], item["trigger"], item["stop"]) == ("MSFT", "long", "101.00", "99.00")
    candidate = item["candidate"]
    assert candidate is not None, item["note"]
    assert candidate["legs"][0]["type"] == "call" and candidate["expiration"] == "2013-06-07"
    # 1% of 100,000 = a $1,000 risk budget, spent in whole contracts of the candidate's risk at the stock stop
    assert candidate["contracts"] == int(1_000 // candidate["risk_per_contract"]) > 0
    assert candidate["order"]["class"] == "option" and candidate["order"]["quantity"] == candidate["contracts"]


def _schema(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """A schema node with its `$ref` (or a nullable `anyOf` of one) followed into the components."""
    if "anyOf" in node:
        node = next(option for option in node["anyOf"] if "$ref" in option)
    if "$ref" in node:
        return _schema(document, document["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]])
    return node


async def test_the_openapi_names_every_field_of_a_pick_and_its_size(
        picks_app: tuple[httpx.AsyncClient, Any]) -> None:
    http, _ = picks_app
    document = (await http.get("/openapi.json")).json()

    def answer_of(path: str) -> dict[str, Any]:
        return _schema(document, document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
                       ["schema"])

    page, one = answer_of("/api/v1/picks"), answer_of("/api/v1/picks/{pick_id}")
    assert set(page["properties"]) == {f.name for f in fields(PicksPage)}
    listed = _schema(document, page["properties"]["items"]["items"])
    assert set(listed["properties"]) == set(one["properties"]) == {f.name for f in fields(PickView)}
    assert set(_schema(document, one["properties"]["size"])["properties"]) == {f.name for f in fields(PickSize)}
    confidence = _schema(document, one["properties"]["confidence"])
    assert set(confidence["properties"]) == {"score", "base", "factors", "adjustment"}
    assert set(_schema(document, confidence["properties"]["factors"]["items"])["properties"]) == {
        "name", "value", "weight", "explanation"}
    assert set(_schema(document, one["properties"]["outcome"])["properties"]) == {
        "mfe_r", "mae_r", "reached_1r", "result_r"}
    assert _schema(document, one["properties"]["status"])["enum"] == ["forming", "triggered", "invalidated", "expired"]
    assert set(_schema(document, page["properties"]["universe"])["properties"]) == {"symbols", "source", "reason"}
