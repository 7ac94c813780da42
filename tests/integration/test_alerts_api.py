"""Alerts REST API: CRUD, snooze/dismiss, triggers, and every bad input an alert can get (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.app import create_app
from core.domain.actions import ActionKind, AlertChip
from core.domain.alert_views import AlertView, DeliveryView, TriggerView
from core.settings import PolygonSettings, Settings
from tests.conftest import serving
from tests.doubles.polygon import API_KEY as POLYGON_KEY
from tests.doubles.polygon import PolygonDouble

SPY = {"symbol": "spy", "condition": "price_above", "level": "500"}


@pytest.fixture
async def market(make_settings: Callable[..., Settings], database_url: str,
                 pg: PolygonDouble) -> AsyncIterator[httpx.AsyncClient]:
    polygon = PolygonSettings(api_key=POLYGON_KEY, rest_url=pg.rest_url, ws_url=pg.ws_url)  # type: ignore[arg-type]
    app = create_app(make_settings(database_url=database_url, polygon=polygon), roles=frozenset({"api", "engine"}))
    async with serving(app) as http:
        yield http


@pytest.fixture
async def limited(make_settings: Callable[..., Settings], database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(database_url=database_url, max_active_alerts=2), roles=frozenset({"api", "engine"}))
    async with serving(app) as http:
        yield http


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()["error"]
    return body


def fields_of(body: dict[str, Any]) -> set[str]:
    details = body.get("details")
    if isinstance(details, dict) and "errors" in details:
        return {e["field"] for e in details["errors"]}
    if isinstance(details, list):
        return {e["field"] for e in details}
    return {details["field"]} if isinstance(details, dict) and "field" in details else set()


# -- CRUD ----------------------------------------------------------------------------------------------------------


async def test_create_get_list_patch_delete(client: httpx.AsyncClient) -> None:
    created = ok(await client.post("/api/v1/alerts", json={**SPY, "threshold_pct": 1, "note": " breakout ",
                                                           "channels": ["ws", "discord_webhook"]}), 201)
    assert created["symbol"] == "SPY" and created["level"] == "500.00" and created["status"] == "active"
    assert created["approach_level"] == "495.00" and created["threshold_pct"] == "1"
    assert created["channels"] == ["ws", "discord_webhook"] and created["note"] == "breakout"
    assert created["duplicate"] is False and created["already_true"] is False
    assert created["warnings"] and "market data is disabled" in created["warnings"][0]  # accepted, with a warning
    alert_id = created["id"]

    got = ok(await client.get(f"/api/v1/alerts/{alert_id}"))
    assert got["id"] == alert_id and got["created_at"].endswith("+00:00")
    items = ok(await client.get("/api/v1/alerts"))["items"]
    assert [a["id"] for a in items] == [alert_id]
    assert ok(await client.get("/api/v1/alerts", params={"status": "active"}))["items"][0]["id"] == alert_id
    assert ok(await client.get("/api/v1/alerts", params={"status": "triggered"}))["items"] == []

    patched = ok(await client.patch(f"/api/v1/alerts/{alert_id}", json={"level": "510.5", "repeat": "every",
                                                                          "cooldown_sec": 60}))
    assert (patched["level"], patched["repeat"], patched["cooldown_sec"]) == ("510.50", "every", 60)
    assert patched["note"] == "breakout"  # untouched fields stay
    assert ok(await client.get(f"/api/v1/alerts/{alert_id}/triggers"))["items"] == []

    assert (await client.delete(f"/api/v1/alerts/{alert_id}")).status_code == 204
    assert error(await client.get(f"/api/v1/alerts/{alert_id}"), 404)["code"] == "not_found"
    assert error(await client.delete(f"/api/v1/alerts/{alert_id}"), 404)["code"] == "not_found"
    assert error(await client.get(f"/api/v1/alerts/{alert_id}/triggers"), 404)["code"] == "not_found"
    assert ok(await client.get("/api/v1/alerts"))["items"] == []


async def test_snooze_and_dismiss(client: httpx.AsyncClient) -> None:
    alert_id = ok(await client.post("/api/v1/alerts", json=SPY), 201)["id"]
    snoozed = ok(await client.post(f"/api/v1/alerts/{alert_id}/snooze", json={"minutes": 15}))
    assert snoozed["status"] == "snoozed"
    until = datetime.fromisoformat(snoozed["snoozed_until"])
    assert timedelta(minutes=14) < until - datetime.now(UTC) <= timedelta(minutes=15)
    dismissed = ok(await client.post(f"/api/v1/alerts/{alert_id}/dismiss"))
    assert dismissed["status"] == "dismissed" and dismissed["snoozed_until"] is None
    assert [a["id"] for a in ok(await client.get("/api/v1/alerts", params={"status": "dismissed"}))["items"]] == [
        alert_id]
    body = error(await client.post(f"/api/v1/alerts/{alert_id}/snooze", json={"minutes": 5}), 409)
    assert "dismissed" in body["message"]
    assert fields_of(error(await client.post(f"/api/v1/alerts/{alert_id}/snooze", json={"minutes": 0}),
                           422)) == {"minutes"}
    assert error(await client.post("/api/v1/alerts/nope/dismiss"), 404)["code"] == "not_found"


async def test_duplicate_identical_alert_returns_the_existing_one(client: httpx.AsyncClient) -> None:
    first = ok(await client.post("/api/v1/alerts", json=SPY), 201)
    again = await client.post("/api/v1/alerts", json={**SPY, "symbol": "SPY", "level": 500.0})
    body = ok(again, 200)
    assert body["id"] == first["id"] and body["duplicate"] is True
    other = ok(await client.post("/api/v1/alerts", json={**SPY, "level": "501"}), 201)
    assert other["id"] != first["id"]
    assert len(ok(await client.get("/api/v1/alerts"))["items"]) == 2


async def test_edit_of_a_deleted_alert_is_404(client: httpx.AsyncClient) -> None:
    alert_id = ok(await client.post("/api/v1/alerts", json=SPY), 201)["id"]
    assert (await client.delete(f"/api/v1/alerts/{alert_id}")).status_code == 204
    body = error(await client.patch(f"/api/v1/alerts/{alert_id}", json={"level": "600"}), 404)
    assert alert_id in body["message"]
    assert error(await client.post(f"/api/v1/alerts/{alert_id}/snooze", json={"minutes": 5}), 404)


# -- bad input -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "field"), [
    ({"condition": "price_sideways"}, "condition"),
    ({"timeframe": "hour"}, "timeframe"),
    ({"repeat": "sometimes"}, "repeat"),
    ({"level": 0}, "level"),
    ({"level": "-5"}, "level"),
    ({"level": "lots"}, "level"),
    ({"threshold_pct": 0}, "threshold_pct"),
    ({"threshold_pct": "50.01"}, "threshold_pct"),
    ({"threshold_pct": -1}, "threshold_pct"),
    ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
    ({"channels": ["sms"]}, "channels"),
    ({"channels": []}, "channels"),
    ({"cooldown_sec": -1}, "cooldown_sec"),
    ({"symbol": "$$$"}, "symbol"),
    ({"unknown": 1}, "unknown"),
    ({"cooldown_sec": "soon"}, "cooldown_sec"),
])
async def test_bad_input_is_422_naming_the_field(client: httpx.AsyncClient, change: dict[str, Any],
                                                 field: str) -> None:
    body = error(await client.post("/api/v1/alerts", json={**SPY, **change}), 422)
    assert body["code"] == "invalid"
    assert fields_of(body) == {field}, body
    assert ok(await client.get("/api/v1/alerts"))["items"] == []


async def test_bad_patch_and_status_filter(client: httpx.AsyncClient) -> None:
    alert_id = ok(await client.post("/api/v1/alerts", json=SPY), 201)["id"]
    assert fields_of(error(await client.patch(f"/api/v1/alerts/{alert_id}", json={"threshold_pct": 51}),
                           422)) == {"threshold_pct"}
    assert fields_of(error(await client.patch(f"/api/v1/alerts/{alert_id}", json={"symbol": None}),
                           422)) == {"symbol"}
    assert fields_of(error(await client.patch(f"/api/v1/alerts/{alert_id}", json={}), 422)) == {"body"}
    assert fields_of(error(await client.get("/api/v1/alerts", params={"status": "bogus"}), 422)) == {"status"}
    assert ok(await client.get(f"/api/v1/alerts/{alert_id}"))["level"] == "500.00"  # unchanged


async def test_missing_required_fields(client: httpx.AsyncClient) -> None:
    body = error(await client.post("/api/v1/alerts", json={"symbol": "SPY"}), 422)
    assert fields_of(body) == {"condition", "level"}


async def test_more_than_max_active_alerts_is_409_with_the_limit(limited: httpx.AsyncClient) -> None:
    for level in ("1", "2"):
        ok(await limited.post("/api/v1/alerts", json={**SPY, "level": level}), 201)
    body = error(await limited.post("/api/v1/alerts", json={**SPY, "level": "3"}), 409)
    assert body["code"] == "conflict" and "2" in body["message"] and "MAX_ACTIVE_ALERTS" in body["message"]
    assert body["details"]["limit"] == 2
    # a duplicate is still answered (it creates nothing), and freeing a slot allows a new one
    assert ok(await limited.post("/api/v1/alerts", json={**SPY, "level": "1"}), 200)["duplicate"] is True
    first = ok(await limited.get("/api/v1/alerts"))["items"][0]["id"]
    ok(await limited.post(f"/api/v1/alerts/{first}/dismiss"))
    ok(await limited.post("/api/v1/alerts", json={**SPY, "level": "3"}), 201)


# -- with market data ----------------------------------------------------------------------------------------------


async def test_unknown_symbol_is_404_when_market_data_is_enabled(market: httpx.AsyncClient) -> None:
    body = error(await market.post("/api/v1/alerts", json={**SPY, "symbol": "zzzz"}), 404)
    assert body["code"] == "not_found" and "ZZZZ" in body["message"]
    assert body["details"]["field"] == "symbol"
    assert ok(await market.get("/api/v1/alerts"))["items"] == []


async def test_already_true_is_computed_from_the_last_price(market: httpx.AsyncClient) -> None:
    # the double's snapshot last price is 14.2284
    above = ok(await market.post("/api/v1/alerts", json={"symbol": "AAPL", "condition": "price_above",
                                                         "level": "10"}), 201)
    assert above["already_true"] is True and above["armed"] is False and above["warnings"] == []
    below = ok(await market.post("/api/v1/alerts", json={"symbol": "AAPL", "condition": "price_above",
                                                         "level": "20"}), 201)
    assert below["already_true"] is False and below["armed"] is True


def _schema(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = document["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _answer(document: dict[str, Any], path: str, method: str, status: str = "200") -> dict[str, Any]:
    return _schema(document, document["paths"][path][method]["responses"][status]["content"]["application/json"]
                   ["schema"])


async def test_the_openapi_names_every_field_of_an_alert_a_fire_and_its_chips(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    alert = {f.name for f in fields(AlertView)}
    one = "/api/v1/alerts/{alert_id}"
    for path, method in ((one, "get"), (f"{one}/snooze", "post"), (f"{one}/dismiss", "post")):
        assert set(_answer(document, path, method)["properties"]) == alert, path
    assert set(_answer(document, one, "patch")["properties"]) == alert | {"warnings"}
    for status in ("201", "200"):  # created, or the live alert it duplicates
        assert set(_answer(document, "/api/v1/alerts", "post", status)["properties"]) == alert | {"duplicate",
                                                                                                   "warnings"}
    listed = _answer(document, "/api/v1/alerts", "get")["properties"]["items"]["items"]
    assert set(_schema(document, listed)["properties"]) == alert
    picked = _answer(document, "/api/v1/picks/{pick_id}/alert", "post", "201")
    assert set(picked["properties"]) == alert | {"duplicate", "warnings"}

    fire = _schema(document, _answer(document, f"{one}/triggers", "get")["properties"]["items"]["items"])
    assert set(fire["properties"]) == {f.name for f in fields(TriggerView)}
    assert set(_schema(document, fire["properties"]["deliveries"]["items"])["properties"]) == {
        f.name for f in fields(DeliveryView)}
    chip = _schema(document, fire["properties"]["actions"]["items"])
    assert set(chip["properties"]) == set(AlertChip.__struct_fields__) and set(chip["required"]) == {
        "id", "label", "kind"}
    assert set(_schema(document, chip["properties"]["kind"])["enum"]) == {k.value for k in ActionKind}
    order = next(_schema(document, o) for o in chip["properties"]["order"]["anyOf"] if "$ref" in o)
    assert {"symbol", "side", "quantity", "type", "duration", "class", "take_profit", "stop_loss"} <= set(
        order["properties"])
