"""`/api/v1/options/*` through the app against the Tradier and Polygon doubles, and an option order and a debit
vertical from propose to confirm (the Tradier double checks the fields Tradier requires of them)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from api.app import create_app
from core.settings import PolygonSettings, Settings
from tests.conftest import serving
from tests.doubles.polygon import API_KEY as POLYGON_KEY
from tests.doubles.polygon import PolygonDouble, fixture
from tests.doubles.tradier import TradierDouble, fixture_text
from tests.doubles.tradier import fixture as tradier_fixture
from tests.integration.orders_helpers import broker_settings, placed, unthrottled

IN_2013 = datetime(2013, 6, 3, 15, tzinfo=UTC)  # the recorded Tradier expirations are June 2013 onwards
IN_2020 = datetime(2020, 11, 12, 15, tzinfo=UTC)  # the Polygon spec example's quote time


@pytest.fixture
async def tradier_api(make_settings: Callable[..., Settings], tradier: TradierDouble
                      ) -> AsyncIterator[httpx.AsyncClient]:
    settings = broker_settings(make_settings, make_settings().database_url, tradier)
    app = create_app(settings, roles=frozenset({"api"}))
    async with serving(app) as http:
        unthrottled(app.state.runtime).options.clock = lambda: IN_2013
        yield http


@pytest.fixture
async def polygon_api(make_settings: Callable[..., Settings], pg: PolygonDouble) -> AsyncIterator[httpx.AsyncClient]:
    polygon = PolygonSettings(api_key=POLYGON_KEY, rest_url=pg.rest_url, ws_url=pg.ws_url)
    app = create_app(make_settings(polygon=polygon), roles=frozenset({"api"}))
    async with serving(app) as http:
        app.state.runtime.options.clock = lambda: IN_2020
        yield http


async def test_tradier_expirations_and_chain_with_vendor_and_computed_greeks(tradier_api: httpx.AsyncClient) -> None:
    listed = await tradier_api.get("/api/v1/options/expirations/aapl")
    assert listed.status_code == 200, listed.text
    assert listed.json()["source"] == "tradier" and listed.json()["expirations"][0] == "2013-06-07"
    response = await tradier_api.get("/api/v1/options/chain/AAPL", params={"expiration": "2013-06-07"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["underlying_price"] == 438.89 and body["source"] == "tradier" and body["expiration"] == "2013-06-07"
    call, put = body["contracts"]
    assert call["option_symbol"] == "AAPL130607C00150000" and call["dte"] == 4
    assert call["greeks_source"] == "vendor" and call["delta"] == 0.52 and call["iv"] == 0.235
    assert call["mid"] == 2.15 and call["spread_pct"] == pytest.approx(4.65, abs=0.01)
    # the put came without greeks: a 2.15 put 289 below the money is above what any volatility explains
    assert put["greeks_source"] == "none" and put["delta"] is None and "no-arbitrage" not in put["greeks_note"]


async def test_nearest_expiration_when_none_is_given(tradier_api: httpx.AsyncClient) -> None:
    body = (await tradier_api.get("/api/v1/options/chain/AAPL", params={"strikes": 1})).json()
    assert body["expiration"] == "2013-06-07" and len(body["contracts"]) == 2


async def test_screen_ranks_over_the_dte_window_with_reasons(tradier_api: httpx.AsyncClient,
                                                             tradier: TradierDouble) -> None:
    response = await tradier_api.get("/api/v1/options/screen", params={
        "symbol": "AAPL", "type": "call", "delta_min": 0.3, "delta_max": 0.7, "dte_min": 0, "dte_max": 12,
        "max_spread_pct": 5, "min_open_interest": 1000, "min_volume": 100})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["expirations"] == ["2013-06-07", "2013-06-14"]
    assert [hit["contract"]["expiration"] for hit in body["results"]] == ["2013-06-07", "2013-06-14"]
    assert "|delta| 0.52 in [0.3, 0.7]" in body["results"][0]["reason"]
    assert len(tradier.requests_to("GET", "/options/chains")) == 2
    bad = await tradier_api.get("/api/v1/options/screen", params={"symbol": "AAPL", "delta_min": 0.8,
                                                                  "delta_max": 0.2})
    assert bad.status_code == 422 and "delta_min" in bad.text


async def test_price_known_values_and_iv_from_a_price(tradier_api: httpx.AsyncClient) -> None:
    valued = await tradier_api.post("/api/v1/options/price", json={
        "underlying": 100, "strike": 100, "dte": 365, "type": "call", "rate": 0.05, "iv": 0.2})
    assert valued.status_code == 200, valued.text
    assert valued.json()["value"] == pytest.approx(10.4506, abs=1e-4) and "European" in valued.json()["model"]
    solved = await tradier_api.post("/api/v1/options/price", json={
        "underlying": 100, "strike": 100, "dte": 365, "type": "put", "rate": 0.05, "price": 5.5735})
    assert solved.json()["iv"] == pytest.approx(0.2, abs=1e-4) and solved.json()["iv_solved"] is True
    impossible = await tradier_api.post("/api/v1/options/price", json={
        "underlying": 100, "strike": 100, "dte": 365, "type": "call", "rate": 0.05, "price": 0.5})
    assert impossible.status_code == 200 and impossible.json()["iv"] is None
    assert "no-arbitrage lower bound" in impossible.json()["iv_note"]
    both = await tradier_api.post("/api/v1/options/price", json={
        "underlying": 100, "strike": 100, "dte": 30, "type": "call", "iv": 0.2, "price": 3})
    assert both.status_code == 422 and "exactly one" in both.text


async def test_the_configured_risk_free_rate_prices_when_the_request_names_none(
        make_settings: Callable[..., Settings], tradier: TradierDouble) -> None:
    settings = broker_settings(make_settings, make_settings().database_url, tradier, options_risk_free_rate=0.05)
    app = create_app(settings, roles=frozenset({"api"}))
    async with serving(app) as http:
        valued = await http.post("/api/v1/options/price", json={
            "underlying": 100, "strike": 100, "dte": 365, "type": "call", "iv": 0.2})
        assert app.state.runtime.options.rate == 0.05
    assert valued.status_code == 200, valued.text
    assert valued.json()["value"] == pytest.approx(10.4506, abs=1e-4)  # at 4% it would be 9.9251


async def _propose_and_confirm(client: httpx.AsyncClient, order: dict[str, Any]) -> dict[str, Any]:
    proposed = await client.post("/api/v1/broker/orders", json={**order, "source": "options"})
    assert proposed.status_code == 201, proposed.text
    intent = proposed.json()
    confirmed = await client.post(f"/api/v1/broker/orders/{intent['intent']['id']}/confirm",
                                  json={"token": intent["token"]})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["outcome"] == "submitted"
    return intent


async def test_express_sizes_from_the_risk_budget_and_take_goes_through_propose_confirm(
        tradier_api: httpx.AsyncClient, tradier: TradierDouble) -> None:
    response = await tradier_api.post("/api/v1/options/express", json={
        "symbol": "AAPL", "side": "long", "entry": 438.89, "stop": 436.89, "targets": [442.89], "dte_max": 5,
        "structure": "single"})
    assert response.status_code == 200, response.text
    body = response.json()
    [candidate] = body["candidates"]
    # move -2 with delta 0.52, gamma 0.04: -1.04 + 0.08 = -0.96 a share, $96 a contract
    assert candidate["premium"] == 2.2 and candidate["risk_per_contract"] == 96.0
    # 1% of the double's 17,798.36 equity = 177.98 budget -> 1 contract
    assert candidate["contracts"] == 1 and candidate["dollar_risk"] == 96.0
    assert "risk budget" in candidate["sizing"] and candidate["breakeven"] == 152.2
    assert not any("earnings" in note for note in body["notes"])  # the calendars answered: none before expiry
    order = candidate["order"]
    assert order["class"] == "option" and order["option_symbol"] == "AAPL130607C00150000"
    await _propose_and_confirm(tradier_api, order)
    [sent] = placed(tradier)
    assert sent["class"] == "option" and sent["option_symbol"] == "AAPL130607C00150000"
    assert sent["side"] == "buy_to_open" and sent["quantity"] == 1.0


async def test_a_debit_vertical_goes_through_as_a_tradier_multileg_order(tradier_api: httpx.AsyncClient,
                                                                        tradier: TradierDouble) -> None:
    vertical = {"symbol": "AAPL", "class": "multileg", "side": "buy_to_open", "quantity": 2, "type": "debit",
                "price": "1.10", "duration": "day",
                "legs": [{"option_symbol": "AAPL130607C00150000", "side": "buy_to_open", "quantity": 2},
                         {"option_symbol": "AAPL130607C00155000", "side": "sell_to_open", "quantity": 2}]}
    await _propose_and_confirm(tradier_api, vertical)
    [sent] = placed(tradier)
    assert sent["class"] == "multileg" and sent["type"] == "debit" and sent["price"] == "1.10"
    assert [(leg["option_symbol"], leg["side"]) for leg in sent["leg"]] == [
        ("AAPL130607C00150000", "buy_to_open"), ("AAPL130607C00155000", "sell_to_open")]


async def test_polygon_chain_when_tradier_is_not_configured(polygon_api: httpx.AsyncClient) -> None:
    listed = (await polygon_api.get("/api/v1/options/expirations/AAPL")).json()
    assert listed == {"symbol": "AAPL", "source": "polygon", "expirations": ["2022-01-21"]}
    body = (await polygon_api.get("/api/v1/options/chain/AAPL")).json()
    assert body["source"] == "polygon" and body["expiration"] == "2022-01-21"
    assert body["contracts"][0]["greeks_source"] == "vendor"
    assert body["contracts"][1]["greeks_source"] in ("computed", "none")


async def test_polygon_plan_without_options_is_a_503_naming_the_plan(polygon_api: httpx.AsyncClient,
                                                                     pg: PolygonDouble) -> None:
    pg.fail("/v3/snapshot/options", 403, fixture("error_403_not_authorized_v3_trades.json"))
    response = await polygon_api.get("/api/v1/options/expirations/AAPL")
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "integration_disabled" and "plan does not include options" in error["message"]
    assert "upgrade" in error["details"]["how_to_enable"]


async def test_without_credentials_every_route_says_what_to_set(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(polygon=PolygonSettings(api_key=None)), roles=frozenset({"api"}))
    async with serving(app) as http:
        response = await http.get("/api/v1/options/chain/AAPL")
        assert response.status_code == 503
        assert "TRADIER_ACCESS_TOKEN" in response.json()["error"]["details"]["how_to_enable"]
        picks = await http.get("/api/v1/options/picks")
        assert picks.status_code == 503 and "POLYGON_API_KEY" in picks.json()["error"]["message"]


async def test_the_tradier_double_refuses_option_orders_missing_required_fields(tradier: TradierDouble) -> None:
    async with httpx.AsyncClient(base_url=tradier.base_url, headers={
            "Authorization": f"Bearer {tradier.token}", "Accept": "application/json"}) as http:
        orders = f"/accounts/{tradier.account_id}/orders"
        single = await http.post(orders, data={"class": "option", "symbol": "AAPL", "side": "buy",
                                               "quantity": "1", "type": "market", "duration": "day"})
        assert single.status_code == 400 and "Option symbol is required" in single.text
        one_leg = await http.post(orders, data={"class": "multileg", "symbol": "AAPL", "type": "debit",
                                                "price": "1", "duration": "day",
                                                "option_symbol[0]": "AAPL130607C00150000",
                                                "side[0]": "buy_to_open", "quantity[0]": "1"})
        assert one_leg.status_code == 400 and "2 to 4 legs" in one_leg.text
    assert fixture_text("docs_options_chain_vxx.json")  # the recording the contract tests serve


async def test_hedge_proposes_a_protective_put_with_its_dollar_effect_then_confirms(
        tradier_api: httpx.AsyncClient, tradier: TradierDouble) -> None:
    tradier.positions = [{"cost_basis": 80000.0, "date_acquired": "2013-05-01T14:41:11.405Z", "id": 1,
                          "quantity": 250.0, "symbol": "AAPL"}]
    response = await tradier_api.post("/api/v1/options/hedge", json={"symbol": "AAPL", "otm_pct": 5, "min_dte": 30})
    assert response.status_code == 201, response.text
    body = response.json()
    effect = body["effect"]
    assert body["expiration"] == "2013-07-05" and effect["put"]["option_symbol"] == "AAPL130705P00150000"
    assert effect["contracts"] == 2 and effect["shares_covered"] == 200 and effect["unhedged_shares"] == 50
    assert effect["cost"] == 440.0 and effect["floor"] == 150.0
    assert effect["max_loss"] == pytest.approx((438.89 - 150 + 2.2) * 200)
    assert body["intent"]["order"]["option_symbol"] == "AAPL130705P00150000" and body["risk"]["decision"] == "approved"
    confirmed = await tradier_api.post(f"/api/v1/broker/orders/{body['intent']['id']}/confirm",
                                       json={"token": body["token"]})
    assert confirmed.status_code == 200, confirmed.text
    [sent] = placed(tradier)
    assert sent["class"] == "option" and sent["side"] == "buy_to_open" and sent["quantity"] == 2.0
    small = await tradier_api.post("/api/v1/options/hedge", json={"symbol": "MSFT"})
    assert small.status_code == 404 and "no open MSFT position" in small.text


def tradier_contract(symbol: str, kind: str, strike: float, bid: float, ask: float) -> dict[str, Any]:
    """A chain row in Tradier's shape (the recorded single-contract quote's fields)."""
    return {"symbol": symbol, "underlying": "AAPL", "strike": strike, "option_type": kind,
            "expiration_date": "2013-07-05", "bid": bid, "ask": ask, "last": ask, "bidsize": 10, "asksize": 12,
            "open_interest": 900, "volume": 120, "prevclose": ask, "greeks": None}


async def test_a_collar_is_one_multileg_order_with_floor_cap_and_net_through_confirm(
        tradier_api: httpx.AsyncClient, tradier: TradierDouble) -> None:
    tradier.positions = [{"cost_basis": 80000.0, "date_acquired": "2013-05-01T14:41:11.405Z", "id": 1,
                          "quantity": 200.0, "symbol": "AAPL"}]
    tradier.serve("/markets/options/chains", {"options": {"option": [
        tradier_contract("AAPL130705P00415000", "put", 415, 5.9, 6.1),
        tradier_contract("AAPL130705C00460000", "call", 460, 7.0, 7.2),
        tradier_contract("AAPL130705C00465000", "call", 465, 4.8, 5.0)]}})
    response = await tradier_api.post("/api/v1/options/hedge", json={
        "symbol": "AAPL", "kind": "collar", "otm_pct": 5, "call_otm_pct": 5, "min_dte": 30})
    assert response.status_code == 201, response.text
    effect = response.json()["effect"]
    assert effect["kind"] == "collar" and effect["call"]["option_symbol"] == "AAPL130705C00465000"
    assert effect["floor"] == 415.0 and effect["cap"] == 465.0 and effect["net_premium"] == pytest.approx(1.3)
    assert effect["cost"] == 260.0  # (6.10 - 4.80) x 200
    assert effect["max_loss"] == pytest.approx((438.89 - 415 + 1.3) * 200)
    assert effect["max_gain"] == pytest.approx((465 - 438.89 - 1.3) * 200)
    intent = response.json()["intent"]
    assert intent["order"]["class"] == "multileg" and "collar" in intent["rationale"], intent
    confirmed = await tradier_api.post(f"/api/v1/broker/orders/{intent['id']}/confirm",
                                       json={"token": response.json()["token"]})
    assert confirmed.status_code == 200, confirmed.text
    [sent] = placed(tradier)
    assert sent["class"] == "multileg" and sent["type"] == "debit" and sent["price"] == "1.30"
    assert [(leg["option_symbol"], leg["side"], leg["quantity"]) for leg in sent["leg"]] == [
        ("AAPL130705P00415000", "buy_to_open", 2.0), ("AAPL130705C00465000", "sell_to_open", 2.0)]
    no_call = await tradier_api.post("/api/v1/options/hedge", json={"symbol": "AAPL", "kind": "collar",
                                                                    "call_otm_pct": 20})
    assert no_call.status_code == 422 and "call_otm_pct" in no_call.text
    bad_kind = await tradier_api.post("/api/v1/options/hedge", json={"symbol": "AAPL", "kind": "straddle"})
    assert bad_kind.status_code == 422 and "kind" in bad_kind.text


async def test_a_tradier_chain_refusal_falls_back_to_polygon(make_settings: Callable[..., Settings],
                                                            tradier: TradierDouble, pg: PolygonDouble) -> None:
    polygon = PolygonSettings(api_key=POLYGON_KEY, rest_url=pg.rest_url, ws_url=pg.ws_url)
    settings = broker_settings(make_settings, make_settings().database_url, tradier, polygon=polygon)
    app = create_app(settings, roles=frozenset({"api"}))
    async with serving(app) as http:
        app.state.runtime.options.clock = lambda: IN_2020
        tradier.fail("status", path="/options/chains", status=400, message="Options data not available")
        response = await http.get("/api/v1/options/chain/AAPL", params={"expiration": "2022-01-21"})
    assert response.status_code == 200, response.text
    assert response.json()["source"] == "polygon" and tradier.requests_to("GET", "/options/chains")
    assert pg.hits("/v3/snapshot/options/AAPL")[0].query["expiration_date"] == "2022-01-21"


async def test_express_warns_of_earnings_before_a_candidates_expiration(tradier_api: httpx.AsyncClient,
                                                                        tradier: TradierDouble) -> None:
    calendars = copy.deepcopy(tradier_fixture("docs_fundamentals_calendars.json"))
    calendars[0]["results"][0]["tables"]["corporate_calendars"][0]["begin_date_time"] = "2013-06-05"
    tradier.serve("/beta/markets/fundamentals/calendars", [{**calendars[0], "request": "AAPL"}])
    response = await tradier_api.post("/api/v1/options/express", json={
        "symbol": "AAPL", "side": "long", "entry": 438.89, "stop": 436.89, "targets": [442.89], "dte_max": 12,
        "structure": "single", "candidates": 3})
    assert response.status_code == 200, response.text
    by_expiration = {c["expiration"]: c["warnings"] for c in response.json()["candidates"]}
    assert any("earnings 2013-06-05" in w and "before this expiration" in w for w in by_expiration["2013-06-07"])
