"""/api/v1/broker/* and /api/v1/stream/positions|orders through the app, against the Tradier double, on SQLite
and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import fields
from typing import Any

import httpx
import pytest

from api.app import create_app
from core.domain.order_views import Intent, PositionItem, RiskDecision
from core.domain.orders import PreviewView
from core.services.orders import ProposeResult
from core.settings import Settings
from tests.conftest import API_KEY
from tests.doubles.tradier import TradierDouble
from tests.integration.orders_helpers import broker_settings, place_posts, placed, unthrottled

ORDER = {"symbol": "AAPL", "side": "buy", "quantity": 1, "type": "limit", "price": "438.50", "duration": "day"}


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API role only: no risk engine or tracker polling the double in the background (RISK_EVAL_SEC is 0.2 s
    in tests, which would queue these requests behind the broker's rate limiter)."""
    async with _client(settings) as http:
        yield http


@asynccontextmanager
async def _client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, roles=frozenset({"api"}))
    async with app.router.lifespan_context(app):
        unthrottled(app.state.runtime)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                     headers={"X-API-Key": API_KEY}) as http:
            yield http


async def _propose(client: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/broker/orders", json={**ORDER, **changes})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_propose_confirm_and_second_confirm_is_409(client: httpx.AsyncClient, tradier: TradierDouble) -> None:
    body = await _propose(client, rationale="reclaim of 438")
    assert set(body) == {"intent", "preview", "risk", "token", "mode"}
    assert body["mode"] == "PAPER" and body["risk"]["decision"] == "approved"
    assert body["intent"]["status"] == "PENDING" and body["intent"]["order"]["price"] == "438.50"
    assert body["preview"]["cost"] is not None
    intent_id, token = body["intent"]["id"], body["token"]

    confirmed = await client.post(f"/api/v1/broker/orders/{intent_id}/confirm", json={"token": token})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["outcome"] == "submitted"
    assert confirmed.json()["intent"]["broker_order_id"] == str(placed(tradier)[0]["id"])

    again = await client.post(f"/api/v1/broker/orders/{intent_id}/confirm", json={"token": token})
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    assert len(placed(tradier)) == 1

    blotter = (await client.get("/api/v1/stream/orders")).json()
    assert [item["intent_id"] for item in blotter["items"] if item["id"]] == [intent_id]
    listed = (await client.get("/api/v1/broker/orders")).json()["items"]
    assert listed[0]["intent_id"] == intent_id and listed[0]["manual"] is False


async def test_forged_token_is_403_and_cancel_intent_then_confirm_is_409(client: httpx.AsyncClient,
                                                                         tradier: TradierDouble) -> None:
    body = await _propose(client)
    intent_id = body["intent"]["id"]
    forged = await client.post(f"/api/v1/broker/orders/{intent_id}/confirm", json={"token": "x" * 43})
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "forbidden"
    cancelled = await client.post(f"/api/v1/broker/orders/{intent_id}/cancel-intent")
    assert cancelled.status_code == 200 and cancelled.json()["intent"]["status"] == "CANCELLED"
    late = await client.post(f"/api/v1/broker/orders/{intent_id}/confirm", json={"token": body["token"]})
    assert late.status_code == 409
    missing = await client.post("/api/v1/broker/orders/0123456789abcdef/confirm", json={"token": "t"})
    assert missing.status_code == 404
    assert placed(tradier) == []


async def test_quantity_above_the_risk_cap_is_403_with_the_reason(client: httpx.AsyncClient,
                                                                   tradier: TradierDouble) -> None:
    response = await client.post("/api/v1/broker/orders", json={**ORDER, "quantity": 1000})
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "risk_denied" and "per-order limit" in error["message"]
    assert error["details"]["risk"]["code"] == "max_order_notional"
    assert tradier.requests_to("POST", "/orders") == []


@pytest.mark.parametrize(("change", "reason"), [
    ({"side": "sell_short", "quantity": 1000, "type": "limit", "price": "0.01"},
     "the limit price 0.01 is 100.00% below the market 438.89, beyond the 10.00% collar"),
    ({"side": "buy", "quantity": 1000, "type": "stop", "price": None, "stop": "0.01"},
     "the stop price 0.01 is 100.00% below the market 438.89, beyond the 10.00% collar"),
    ({"side": "sell_short", "quantity": 1000, "type": "limit", "price": "438.00"},
     "order value $438,890.00 is above the $25,000.00 per-order limit"),  # marketable: valued at the quote
])
async def test_a_limit_or_stop_is_valued_at_the_market_and_collared(client: httpx.AsyncClient, tradier: TradierDouble,
                                                                    change: dict[str, Any], reason: str) -> None:
    body = {k: v for k, v in {**ORDER, **change}.items() if v is not None}
    response = await client.post("/api/v1/broker/orders", json=body)
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "risk_denied" and reason in error["message"]
    assert tradier.requests_to("POST", "/orders") == []  # neither previewed nor sent


async def test_a_limit_without_a_fresh_quote_is_refused(client: httpx.AsyncClient, tradier: TradierDouble) -> None:
    response = await client.post("/api/v1/broker/orders", json={**ORDER, "symbol": "NOQUOTE"})
    assert response.status_code == 403, response.text
    assert response.json()["error"]["details"]["risk"]["code"] == "no_quote"
    assert tradier.requests_to("POST", "/orders") == []


BAD_ORDERS = [
    ({"quantity": 0}, "quantity"),
    ({"quantity": -5}, "quantity"),
    ({"quantity": 1.5}, "quantity"),
    ({"type": "limit", "price": None}, "price"),
    ({"type": "stop", "price": None}, "stop"),
    ({"side": "buy_to_open"}, "side"),
    ({"type": "trailing"}, "type"),
    ({"duration": "week"}, "duration"),
    ({"symbol": "AA PL"}, "symbol"),
    ({"symbol": " AAPL"}, "symbol"),
    ({"price": "NaN"}, "price"),
    ({"price": "1e308"}, "price"),
    ({"price": "438.505"}, "price"),       # off the $0.01 tick
    ({"price": "0.00005"}, "price"),       # off the $0.0001 tick below $1
    ({"type": "stop", "stop": "438.001", "price": None}, "stop"),
    ({"leverage": 10}, "leverage"),
]


async def test_bad_orders_are_422_naming_the_field(client: httpx.AsyncClient, tradier: TradierDouble) -> None:
    for change, field in BAD_ORDERS:
        body = {k: v for k, v in {**ORDER, **change}.items() if v is not None}
        response = await client.post("/api/v1/broker/orders", json=body)
        assert response.status_code == 422, (change, response.text)
        error = response.json()["error"]
        assert any(d["field"] == field for d in error["details"]), (change, error)
    assert tradier.requests_to("POST", "/orders") == []


async def test_replace_and_cancel_via_intents_and_unknown_order_is_404(client: httpx.AsyncClient,
                                                                        tradier: TradierDouble) -> None:
    body = await _propose(client)
    await client.post(f"/api/v1/broker/orders/{body['intent']['id']}/confirm", json={"token": body["token"]})
    order_id = str(placed(tradier)[0]["id"])

    replace = await client.put(f"/api/v1/broker/orders/{order_id}", json={"price": "437.25"})
    assert replace.status_code == 200, replace.text
    assert replace.json()["intent"]["action"] == "replace"
    done = await client.post(f"/api/v1/broker/orders/{replace.json()['intent']['id']}/confirm",
                             json={"token": replace.json()["token"]})
    assert done.status_code == 200 and tradier.orders[order_id]["price"] == "437.25"

    cancel = await client.delete(f"/api/v1/broker/orders/{order_id}")
    assert cancel.status_code == 200 and cancel.json()["intent"]["action"] == "cancel"
    assert cancel.json()["preview"] is None
    done = await client.post(f"/api/v1/broker/orders/{cancel.json()['intent']['id']}/confirm",
                             json={"token": cancel.json()["token"]})
    assert done.status_code == 200 and tradier.orders[order_id]["status"] == "canceled"

    unknown = await client.delete("/api/v1/broker/orders/999999")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    bad = await client.put(f"/api/v1/broker/orders/{order_id}", json={})
    assert bad.status_code == 422
    assert len(place_posts(tradier)) == 1


async def test_rejected_by_the_broker_is_502_with_its_message(client: httpx.AsyncClient,
                                                               tradier: TradierDouble) -> None:
    body = await _propose(client)
    tradier.fail("errors_200", method="POST", path="/orders", message="Sell quantity exceeds position")
    response = await client.post(f"/api/v1/broker/orders/{body['intent']['id']}/confirm",
                                 json={"token": body["token"]})
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "order_rejected" and "Sell quantity exceeds position" in error["message"]
    assert error["details"]["intent"]["status"] == "REJECTED"


async def test_account_positions_and_first_paint(client: httpx.AsyncClient) -> None:
    account = (await client.get("/api/v1/broker/account")).json()
    assert account["mode"] == "PAPER" and account["equity"] == "17798.36"
    positions = (await client.get("/api/v1/broker/positions")).json()["items"]
    assert positions[0]["symbol"] == "AAPL" and positions[0]["unrealized_pnl"] is not None
    stream = await client.get("/api/v1/stream/positions")
    assert stream.status_code == 200 and stream.json()["items"][0]["symbol"] == "AAPL"


async def test_propose_and_confirm_by_api_when_it_is_not_a_trader_are_403(
        make_settings: Callable[..., Settings], database_url: str, tradier: TradierDouble) -> None:
    async with _client(broker_settings(make_settings, database_url, tradier, traders=[])) as client:
        proposed = await client.post("/api/v1/broker/orders", json=ORDER)
        assert proposed.status_code == 403 and "add `api` to TRADERS" in proposed.json()["error"]["message"]
        response = await client.post("/api/v1/broker/orders/someintent/confirm", json={"token": "t"})
        assert response.status_code == 403 and "TRADERS" in response.json()["error"]["message"]
    assert tradier.requests_to("POST", "/orders") == [] and placed(tradier) == []  # not even a preview


async def test_broker_disabled_is_503_with_how_to_enable(make_settings: Callable[..., Settings],
                                                         database_url: str) -> None:
    async with _client(make_settings(database_url=database_url)) as client:
        for method, path, payload in (("GET", "/api/v1/broker/account", None),
                                      ("GET", "/api/v1/broker/positions", None),
                                      ("POST", "/api/v1/broker/orders", ORDER),
                                      ("GET", "/api/v1/stream/orders", None),
                                      ("GET", "/api/v1/stream/positions", None)):
            response = await client.request(method, path, json=payload)
            assert response.status_code == 503, (path, response.text)
            assert "TRADIER_ACCESS_TOKEN" in response.json()["error"]["details"]["how_to_enable"]


def _schema(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = document["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _fields(document: dict[str, Any], node: dict[str, Any]) -> set[str]:
    return set(_schema(document, node)["properties"])


async def test_the_openapi_names_every_field_of_a_proposal_and_a_position(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    paths = document["paths"]
    created = paths["/api/v1/broker/orders"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    proposal = _schema(document, created)
    assert set(proposal["properties"]) == {f.name for f in fields(ProposeResult)}
    intent = next(_schema(document, option) for option in proposal["properties"]["intent"]["anyOf"]
                  if "$ref" in option)
    assert set(intent["properties"]) == {f.name for f in fields(Intent)}
    assert _fields(document, proposal["properties"]["risk"]) == {f.name for f in fields(RiskDecision)}
    preview = next(option for option in proposal["properties"]["preview"]["anyOf"] if "$ref" in option)
    assert _fields(document, preview) == {f.name for f in fields(PreviewView)}
    listed = paths["/api/v1/broker/positions"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    items = _schema(document, listed)["properties"]["items"]["items"]
    assert _fields(document, items) == {f.name for f in fields(PositionItem)}
    assert _schema(document, items)["properties"]["unrealized_pnl"]["anyOf"] == [{"type": "string"}, {"type": "null"}]
    assert "403" in paths["/api/v1/broker/orders"]["post"]["responses"]  # risk denied, documented
