"""`GET /chart/{symbol}` against the Polygon and Tradier doubles: candles, session VWAP, prior day, opening range
and the trader's levels; 503 without Polygon, 422 on bad input (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from api.app import create_app
from core.settings import PolygonSettings, Settings
from tests.conftest import serving
from tests.doubles.polygon import API_KEY as POLYGON_KEY
from tests.doubles.polygon import PolygonDouble
from tests.doubles.tradier import TradierDouble
from tests.integration.orders_helpers import broker_settings

NY = ZoneInfo("America/New_York")


@pytest.fixture
async def client(make_settings: Callable[..., Settings], database_url: str, pg: PolygonDouble,
                 tradier: TradierDouble) -> AsyncIterator[httpx.AsyncClient]:
    polygon = PolygonSettings(api_key=POLYGON_KEY, rest_url=pg.rest_url, ws_url=pg.ws_url)  # type: ignore[arg-type]
    app = create_app(broker_settings(make_settings, database_url, tradier, polygon=polygon), roles=frozenset({"api"}))
    async with serving(app) as http:
        yield http


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def tradier_order(order_id: int, **fields: Any) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"id": order_id, "symbol": "AAPL", "quantity": 2.0, "duration": "gtc", "class": "equity",
            "create_date": now, "transaction_date": now, "exec_quantity": 0.0, "avg_fill_price": 0.0,
            "remaining_quantity": 2.0, **fields}


def regular(candles: list[dict[str, Any]], day: Any) -> list[dict[str, Any]]:
    opens, closes = time(9, 30), time(16, 0)
    return [c for c in candles if (when := datetime.fromtimestamp(c["t"], NY)).date() == day
            and opens <= when.time() < closes]


async def test_candles_studies_and_levels(client: httpx.AsyncClient, pg: PolygonDouble,
                                          tradier: TradierDouble) -> None:
    assert ok(await client.post("/api/v1/alerts", json={"symbol": "AAPL", "condition": "price_above",
                                                        "level": "450"}), 201)
    plan = {"entry": "440", "stop": "430", "targets": ["460", "480"]}
    assert (await client.post("/api/v1/journal", json={"kind": "plan", "body": "AAPL reclaim", "symbol": "AAPL",
                                                       "plan": plan})).status_code == 201
    tradier.orders["2001"] = tradier_order(2001, side="sell", type="stop", status="open", stop_price=395.5)
    tradier.orders["2002"] = tradier_order(2002, side="buy", type="market", status="filled", exec_quantity=2.0,
                                           avg_fill_price=401.25, remaining_quantity=0.0)

    body = ok(await client.get("/api/v1/chart/aapl", params={"days": 2}))
    assert body["symbol"] == "AAPL" and body["source"] == "polygon" and body["warnings"] == []
    candles = body["candles"]
    assert candles and all(set(c) == {"t", "o", "h", "l", "c", "v"} and isinstance(c["t"], int) for c in candles)
    assert [c["t"] for c in candles] == sorted({c["t"] for c in candles})
    days = sorted({datetime.fromtimestamp(c["t"], NY).date() for c in candles})
    assert len(days) == 2  # two New York dates of minute candles
    [hit] = pg.hits("/v2/aggs/ticker/AAPL/range/1/minute/")
    assert hit.path.split("/")[-1].isdigit()  # the window ends now (epoch ms), not at a date's midnight

    latest, before = regular(candles, days[1]), regular(candles, days[0])
    prior_session = before if latest else regular(candles, days[1])  # pre-market: the last session is "prior"
    assert body["prior_day"] == {"high": max(c["h"] for c in prior_session),
                                 "low": min(c["l"] for c in prior_session)}
    if latest:  # the VWAP of the newest session starts at its first candle's typical price
        first = latest[0]
        vwap = {p["t"]: p["value"] for p in body["vwap"]}
        assert vwap[first["t"]] == round((first["h"] + first["l"] + first["c"]) / 3, 4)
        volume = sum(c["v"] for c in latest)
        typical = sum((c["h"] + c["l"] + c["c"]) / 3 * c["v"] for c in latest)
        assert vwap[latest[-1]["t"]] == pytest.approx(typical / volume, abs=1e-4)
    opening = latest[:15]
    if len(latest) > 15:
        assert body["opening_range"] == {"high": max(c["h"] for c in opening), "low": min(c["l"] for c in opening),
                                         "minutes": 15}
    else:
        assert body["opening_range"] is None

    levels = {(lv["kind"], lv["price"]) for lv in body["levels"]}
    assert levels == {("alert", 450.0), ("plan_entry", 440.0), ("plan_stop", 430.0), ("plan_target", 460.0),
                      ("plan_target", 480.0), ("position_avg", 400.0), ("position_stop", 395.5), ("fill", 401.25)}
    labels = {lv["kind"]: lv["label"] for lv in body["levels"]}
    assert labels["position_avg"] == "Long 2 avg 400.00" and labels["fill"] == "Bought 2 @ 401.25"
    assert labels["alert"] == "Alert above 450.00"


async def test_daily_candles_have_a_prior_day_and_no_intraday_studies(client: httpx.AsyncClient) -> None:
    body = ok(await client.get("/api/v1/chart/AAPL", params={"timespan": "day", "days": 3}))
    candles = body["candles"]
    assert 2 <= len(candles) <= 3 and body["vwap"] == [] and body["opening_range"] is None
    assert body["prior_day"] == {"high": candles[-2]["h"], "low": candles[-2]["l"]}


async def test_a_broker_that_does_not_answer_leaves_its_levels_out_and_says_so(
        client: httpx.AsyncClient, tradier: TradierDouble) -> None:
    tradier.fail("malformed", method="GET", path="/positions", times=20)
    body = ok(await client.get("/api/v1/chart/AAPL"))
    assert body["candles"] and not [lv for lv in body["levels"] if lv["kind"].startswith("position")]
    assert body["warnings"] and "broker did not answer" in body["warnings"][0]


async def test_bad_input_is_a_422_naming_the_field(client: httpx.AsyncClient) -> None:
    for path, params, name in (("/api/v1/chart/$$$", {}, "symbol"), ("/api/v1/chart/AAPL", {"timespan": "hour"},
                                                                      "timespan"),
                               ("/api/v1/chart/AAPL", {"days": 11}, "days"),
                               ("/api/v1/chart/AAPL", {"multiplier": 0}, "multiplier"),
                               ("/api/v1/chart/AAPL", {"days": "x"}, "days")):
        response = await client.get(path, params=params)
        assert response.status_code == 422, (path, params, response.text)
        assert name in response.text


async def test_without_polygon_the_chart_is_503_with_how_to_enable(
        make_settings: Callable[..., Settings], database_url: str) -> None:
    async with serving(create_app(make_settings(database_url=database_url), roles=frozenset({"api"}))) as http:
        response = await http.get("/api/v1/chart/AAPL")
        assert response.status_code == 503, response.text
        error = response.json()["error"]
        assert error["code"] == "integration_disabled" and "POLYGON_API_KEY" in error["details"]["how_to_enable"]
        assert (await http.get("/api/v1/chart/AAPL", params={"days": 0})).status_code == 422  # input first
