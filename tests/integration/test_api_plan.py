"""`POST /plan/validate` and `POST /sizing/suggest` over the app: hand-computed numbers, every bad input as a 422
naming the field, and equity taken from the broker (Tradier double) or asked for when there is none."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from api.app import create_app
from core.settings import Settings, TradierSettings
from tests.conftest import serving
from tests.doubles.tradier import ACCOUNT, TOKEN, TradierDouble


@pytest.fixture
async def client(make_settings: Callable[..., Settings]) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(make_settings(), roles=frozenset({"api"}))) as http:
        yield http


@pytest.fixture
async def broker_client(make_settings: Callable[..., Settings]) -> AsyncIterator[httpx.AsyncClient]:
    async with TradierDouble() as tradier:
        settings = make_settings(tradier=TradierSettings(access_token=TOKEN, account_id=ACCOUNT,
                                                         base_url=tradier.base_url))
        async with serving(create_app(settings, roles=frozenset({"api"}))) as http:
            yield http


async def _raw(client: httpx.AsyncClient, path: str, body: str) -> httpx.Response:
    return await client.post(path, content=body.encode(), headers={"content-type": "application/json"})


# -- plan: happy paths ------------------------------------------------------------------------------------------


async def test_long_plan_numbers_and_summary(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/plan/validate", json={
        "symbol": "aapl", "side": "long", "entry": "190.50", "stop": 189.8, "targets": ["192.00", "193.40"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["plan"] == {"symbol": "AAPL", "side": "long", "instrument": "stock", "entry": "190.50",
                            "stop": "189.8", "targets": ["192.00", "193.40"]}
    assert body["risk_per_share"] == "0.70" and body["risk_pct"] == "0.37"  # 0.70 / 190.50 = 0.367%
    assert body["targets"] == [{"price": "192.00", "r": "2.14"}, {"price": "193.40", "r": "4.14"}]
    assert body["r_bands"] == [{"r": 1, "price": "191.20"}, {"r": 2, "price": "191.90"}, {"r": 3, "price": "192.60"}]
    assert body["reward_risk"] == "2.14" and body["warnings"] == [] and body["errors"] == []
    assert body["summary"] == ("Long AAPL at 190.50, stop 189.80 (0.70 risk/share, 0.37%). Targets: 192.00 is "
                               "2.14R, 193.40 is 4.14R. Reward:risk 2.14 meets the 2.00 default. R bands: 1R "
                               "191.20, 2R 191.90, 3R 192.60.")
    assert body["market"] is None and "market data is disabled" in body["notes"][0]


async def test_short_plan_and_rr_below_default_warning(client: httpx.AsyncClient) -> None:
    body = (await client.post("/api/v1/plan/validate", json={
        "side": "short", "entry": 50, "stop": 51, "targets": [48.5]})).json()
    assert body["risk_per_share"] == "1" and body["risk_pct"] == "2.00"
    assert body["targets"] == [{"price": "48.5", "r": "1.50"}]
    assert [b["price"] for b in body["r_bands"]] == ["49", "48", "47"]
    assert [w["code"] for w in body["warnings"]] == ["rr_below_default"]
    assert body["summary"].startswith("Short at 50.00, stop 51.00 (1.00 risk/share, 2.00%). Target 48.50 is 1.50R.")


async def test_option_plan_risk_per_contract(client: httpx.AsyncClient) -> None:
    body = (await client.post("/api/v1/plan/validate", json={
        "side": "long", "entry": "2.50", "stop": "2.00", "targets": ["3.50"], "instrument": "option"})).json()
    assert body["risk_per_share"] == "0.50" and body["risk_per_unit"] == "50.00" and body["risk_pct"] == "20.00"
    assert body["targets"][0]["r"] == "2.00"


async def test_default_rr_setting_is_used(client: httpx.AsyncClient) -> None:
    assert (await client.put("/api/v1/settings", json={"default_rr": 3})).status_code == 200
    body = (await client.post("/api/v1/plan/validate", json={
        "side": "long", "entry": 100, "stop": 99, "targets": [102.5]})).json()
    assert body["default_rr"] == "3" and [w["code"] for w in body["warnings"]] == ["rr_below_default"]


# -- plan: bad input --------------------------------------------------------------------------------------------

LONG = {"side": "long", "entry": "100", "stop": "99", "targets": ["102"]}


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"stop": "101"}, "stop", "must be below entry 100.00 for a long"),
    ({"side": "short"}, "stop", "must be above entry 100.00 for a short"),
    ({"stop": "100"}, "stop", "stop equals entry"),
    ({"entry": 0}, "entry", "greater than 0"),
    ({"entry": -5}, "entry", "greater than 0"),
    ({"stop": "-1"}, "stop", "greater than 0"),
    ({"entry": 1e308}, "entry", "at most 1000000000"),
    ({"entry": "1,000.50"}, "entry", "without separators"),
    ({"stop": "99,5"}, "stop", "without separators"),
    ({"entry": "abc"}, "entry", "must be a number"),
    ({"entry": True}, "entry", "must be a number"),
    ({"entry": {"x": 1}}, "entry", "must be a number"),
    ({"entry": None}, "entry", "missing"),
    ({"targets": ["102", "103", "104", "105"]}, "targets", "at most 3"),
    ({"targets": ["98"]}, "targets[0]", "must be above entry 100.00 for a long"),
    ({"targets": ["102", "100"]}, "targets[1]", "must be above entry"),
    ({"side": "sideways"}, "side", "'long' or 'short'"),
    ({"instrument": "future"}, "instrument", "'stock' or 'option'"),
    ({"symbol": "not a symbol!"}, "symbol", ""),
])
async def test_plan_bad_input_is_422_naming_the_field(client: httpx.AsyncClient, change: dict[str, Any],
                                                      field: str, words: str) -> None:
    response = await client.post("/api/v1/plan/validate", json={**LONG, **change})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid"
    detail = next(d for d in error["details"] if d["field"] == field)
    assert words in detail["message"]


@pytest.mark.parametrize(("raw", "field"), [
    ('{"side": "long", "entry": NaN, "stop": 99}', "entry"),
    ('{"side": "long", "entry": Infinity, "stop": 99}', "entry"),
    ('{"side": "long", "entry": 100, "stop": -Infinity}', "stop"),
    ('{"side": "long", "entry": 100, "stop": 99, "targets": [NaN]}', "targets[0]"),
    ('{"side": "long", "entry": 100, "stop": 99, "targets": "102"}', "targets"),
    ('{"side": "long", "entry": 100, "stop": 99, "bogus": 1}', "bogus"),
])
async def test_plan_non_finite_and_malformed_json_values(client: httpx.AsyncClient, raw: str, field: str) -> None:
    response = await _raw(client, "/api/v1/plan/validate", raw)
    assert response.status_code == 422, response.text
    assert field in [d["field"] for d in response.json()["error"]["details"]]


# -- sizing -----------------------------------------------------------------------------------------------------


async def test_sizing_limited_by_the_risk_budget(client: httpx.AsyncClient) -> None:
    body = (await client.post("/api/v1/sizing/suggest", json={"entry": 20, "stop": 19, "equity": 10000})).json()
    # budget 1% of 10,000 = 100; 100 / 1.00 = 100 shares; caps: 25% = 125, notional 25,000 / 20 = 1250
    assert body["quantity"] == body["shares"] == 100 and body["limited_by"] == "risk_budget"
    assert body["risk_budget"] == "100.00" and body["risk_amount"] == "100" and body["notional"] == "2000"
    assert body["pct_of_equity"] == "20.00" and body["account"] == {"source": "request"}
    assert [w["code"] for w in body["warnings"]] == ["buying_power_unknown"]


async def test_sizing_with_confidence_and_buying_power(client: httpx.AsyncClient) -> None:
    body = (await client.post("/api/v1/sizing/suggest", json={
        "entry": "190.50", "stop": "189.80", "equity": 100000, "buying_power": "50000", "confidence": 0.6,
        "symbol": "AAPL"})).json()
    # budget 1000 x (0.5 + 0.5 x 0.6) = 800 -> 1142 shares; buying power 262; 25% = 25,000 / 190.50 = 131
    assert body["caps"] == [{"name": "risk_budget", "quantity": 1142}, {"name": "buying_power", "quantity": 262},
                            {"name": "max_position_pct", "quantity": 131},
                            {"name": "max_order_notional", "quantity": 131}]
    assert body["quantity"] == 131 and body["limited_by"] == "max_position_pct"
    assert body["risk_amount"] == "91.70" and body["notional"] == "24955.50" and body["risk_budget"] == "800.00"
    assert "Limited by the 25.00% max position size." in body["summary"]


async def test_sizing_options_per_contract(client: httpx.AsyncClient) -> None:
    body = (await client.post("/api/v1/sizing/suggest", json={
        "entry": "2.50", "stop": "2.00", "equity": 100000, "instrument": "option"})).json()
    # budget 1000; 0.50 x 100 = 50 per contract -> 20 contracts, 250 each
    assert body["contracts"] == 20 and body["unit"] == "contracts" and body["notional"] == "5000.00"
    assert body["limited_by"] == "risk_budget"


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"confidence": 1.5}, "confidence", "at least 0 and at most 1"),
    ({"confidence": -0.1}, "confidence", "at least 0 and at most 1"),
    ({"confidence": "NaN"}, "confidence", "NaN and Infinity are not numbers"),
    ({"equity": 0}, "equity", "greater than 0"),
    ({"equity": -100}, "equity", "greater than 0"),
    ({"equity": "10,000"}, "equity", "without separators"),
    ({"risk_per_trade_pct": 0}, "risk_per_trade_pct", "greater than 0 and at most 10"),
    ({"risk_per_trade_pct": 10.5}, "risk_per_trade_pct", "greater than 0 and at most 10"),
    ({"risk_per_trade_pct": -1}, "risk_per_trade_pct", "greater than 0 and at most 10"),
    ({"stop": 20}, "stop", "stop equals entry"),
    ({"entry": 0}, "entry", "greater than 0"),
    ({"entry": 1e308}, "entry", "at most 1000000000"),
    ({"buying_power": -1}, "buying_power", "at least 0"),
])
async def test_sizing_bad_input_is_422_naming_the_field(client: httpx.AsyncClient, change: dict[str, Any],
                                                        field: str, words: str) -> None:
    response = await client.post("/api/v1/sizing/suggest", json={"entry": 20, "stop": 19, "equity": 10000, **change})
    assert response.status_code == 422, response.text
    detail = next(d for d in response.json()["error"]["details"] if d["field"] == field)
    assert words in detail["message"]


async def test_sizing_accepts_the_edges(client: httpx.AsyncClient) -> None:
    for change in ({"confidence": 0}, {"confidence": 1}, {"risk_per_trade_pct": 10}, {"buying_power": 0}):
        response = await client.post("/api/v1/sizing/suggest", json={"entry": 20, "stop": 19, "equity": 10000,
                                                                      **change})
        assert response.status_code == 200, (change, response.text)


async def test_sizing_non_finite_raw_json(client: httpx.AsyncClient) -> None:
    response = await _raw(client, "/api/v1/sizing/suggest", '{"entry": 20, "stop": 19, "equity": Infinity}')
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "equity"


async def test_sizing_without_equity_or_broker_asks_for_equity(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/sizing/suggest", json={"entry": 20, "stop": 19})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["details"][0]["field"] == "equity"
    assert "broker is not configured" in error["details"][0]["message"]


async def test_sizing_takes_equity_and_buying_power_from_the_broker(broker_client: httpx.AsyncClient) -> None:
    body = (await broker_client.post("/api/v1/sizing/suggest", json={"entry": 20, "stop": 19})).json()
    # the double's margin account: equity 17,798.36, stock buying power 12,727.72
    assert body["account"]["source"] == "broker" and body["account"]["buying_power_source"] == "broker"
    assert body["account"]["equity"] == "17798.36" and body["account"]["buying_power"] == "12727.72"
    # budget 1% = 177.98 -> 177 shares; buying power 636; 25% = 4449.59 -> 222; notional 1250
    assert body["quantity"] == 177 and body["limited_by"] == "risk_budget" and body["risk_budget"] == "177.98"
    given = (await broker_client.post("/api/v1/sizing/suggest", json={
        "entry": 20, "stop": 19, "buying_power": 1000})).json()
    assert given["account"]["buying_power_source"] == "request"
    assert given["quantity"] == 50 and given["limited_by"] == "buying_power"
