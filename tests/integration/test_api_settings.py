"""The settings page's body: every editable section, the integrations and the trading mode (read-only: PUT
refuses it naming the field), never a secret, nothing half-written (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from api.app import create_app
from core.settings import Settings
from tests.conftest import API_KEY, serving
from tests.doubles.tradier import TOKEN, TradierDouble
from tests.integration.orders_helpers import broker_settings


@pytest.fixture
async def client(make_settings: Callable[..., Settings], database_url: str,
                 tradier: TradierDouble) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(broker_settings(make_settings, database_url, tradier), roles=frozenset({"api"}))
    async with serving(app) as http:
        yield http


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


async def test_every_section_with_integrations_and_the_trading_mode(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/settings")
    body = ok(response)
    assert set(body["risk"]) >= {"max_daily_loss_usd", "max_open_positions", "max_position_pct",
                                 "risk_per_trade_pct", "max_trades_per_day", "cooldown_minutes"}
    assert body["default_rr"] == "2" and body["watchlist"] == ["SPY", "QQQ"]
    assert body["alert_types"]["discord"] and set(body["picks_universe"]) >= {"min_price", "max_symbols"}
    assert body["news_feeds"] == []
    assert body["alert_routing_options"]["channels"] == list(body["alert_types"])
    assert "crossed" in body["alert_routing_options"]["types"] and "news" in body["alert_routing_options"]["types"]
    assert body["alert_routing_options"]["only"] == {"news": {"channels": ["discord", "slack", "discord_webhook"],
                                                              "note": "/ws always carries news"}}
    assert body["trading_mode"] == {"mode": "PAPER", "broker_configured": True, "editable": False,
                                    "how_to_change": "set TRADIER_ENV/ALLOW_LIVE_TRADING in the environment"}
    integrations = {i["name"]: i for i in body["integrations"]}
    assert integrations["broker"]["enabled"] is True and integrations["broker"]["state"] == "enabled"
    assert integrations["market_data"] == {
        "name": "market_data", "enabled": False, "state": "disabled", "reason": "POLYGON_API_KEY is not set",
        "how_to_enable": "set POLYGON_API_KEY to your Polygon (Massive) API key and restart"}
    assert TOKEN not in response.text and API_KEY not in response.text  # never a secret


async def test_editable_sections_change_and_come_back_in_the_same_shape(client: httpx.AsyncClient) -> None:
    before = ok(await client.get("/api/v1/settings"))
    put = ok(await client.put("/api/v1/settings", json={
        "default_rr": "2.5", "alert_types": {"discord": ["crossed"]}, "watchlist": ["aapl", "msft"],
        "news_feeds": [{"label": "Fed", "url": "https://www.federalreserve.gov/feeds/press_all.xml"}],
        "picks_universe": {"max_symbols": 50}, "risk": {"max_open_positions": 3}}))
    got = ok(await client.get("/api/v1/settings"))
    assert put == got and set(got) == set(before)
    assert got["default_rr"] == "2.5" and got["alert_types"]["discord"] == ["crossed"]
    assert got["alert_types"]["slack"] == before["alert_types"]["slack"]  # the other channels keep theirs
    assert got["watchlist"] == ["AAPL", "MSFT"] and got["news_feeds"][0]["label"] == "Fed"
    assert got["picks_universe"]["max_symbols"] == 50 and got["picks_universe"]["min_price"] == "5"
    assert got["risk"]["max_open_positions"] == 3 and got["risk"]["max_trades_per_day"] == 10


@pytest.mark.parametrize(("field", "value"), [
    ("trading_mode", "LIVE"), ("trading_mode", {"mode": "LIVE"}),
    ("integrations", [{"name": "broker", "enabled": True}]), ("alert_routing_options", {"channels": ["sms"]})])
async def test_read_only_parts_are_refused_naming_the_field_and_nothing_is_written(
        client: httpx.AsyncClient, field: str, value: object) -> None:
    before = ok(await client.get("/api/v1/settings"))
    response = await client.put("/api/v1/settings", json={"default_rr": "3", field: value})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert [d["field"] for d in error["details"]] == [field] and field in error["message"]
    if field == "trading_mode":
        assert "set TRADIER_ENV/ALLOW_LIVE_TRADING in the environment" in error["message"]
    assert ok(await client.get("/api/v1/settings")) == before  # default_rr was not written either


async def test_one_bad_field_writes_nothing(client: httpx.AsyncClient) -> None:
    before = ok(await client.get("/api/v1/settings"))
    response = await client.put("/api/v1/settings", json={"default_rr": "3", "watchlist": ["SPY"],
                                                          "risk": {"max_position_pct": 101}})
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == ["risk.max_position_pct"]
    assert ok(await client.get("/api/v1/settings")) == before
