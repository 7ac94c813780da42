"""Market REST routes and live `price` events through the app, against the local Polygon double.

REST goes through httpx's ASGITransport; the end-to-end test runs the app under a real uvicorn with the double's
WebSocket pushing trades, and edits the watchlist through `PUT /api/v1/settings` while connected.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import orjson
import pytest
import websockets

from api.app import create_app
from core.runtime import Runtime
from core.settings import PolygonSettings, Settings
from tests.conftest import API_KEY, serving
from tests.doubles.polygon import API_KEY as POLYGON_KEY
from tests.doubles.polygon import PolygonDouble
from tests.serve import serve

CHANNELS = ("A", "AM", "Q", "T")


def polygon_settings(make_settings: Callable[..., Settings], pg: PolygonDouble, **overrides: Any) -> Settings:
    polygon = PolygonSettings(api_key=POLYGON_KEY, rest_url=pg.rest_url, ws_url=pg.ws_url)
    return make_settings(polygon=polygon, **overrides)


@pytest.fixture
async def market(make_settings: Callable[..., Settings], pg: PolygonDouble) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(polygon_settings(make_settings, pg), roles=frozenset({"api", "engine"}))
    async with serving(app) as http:
        yield http


@pytest.fixture
async def disabled(make_settings: Callable[..., Settings]) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(polygon=PolygonSettings(api_key=None)), roles=frozenset({"api", "engine"}))
    async with serving(app) as http:
        yield http


def trade(symbol: str, price: float, ts_ms: int | None = None) -> dict[str, Any]:
    return {"ev": "T", "sym": symbol, "x": 4, "i": "1", "z": 3, "p": price, "s": 100, "c": [0],
            "t": ts_ms if ts_ms is not None else time.time_ns() // 1_000_000, "q": 1}


def quote(symbol: str, bid: float, ask: float) -> dict[str, Any]:
    return {"ev": "Q", "sym": symbol, "bx": 4, "bp": bid, "bs": 100, "ax": 7, "ap": ask, "as": 160, "c": 0,
            "i": [604], "t": time.time_ns() // 1_000_000, "q": 2, "z": 3}


def channels(*symbols: str) -> set[str]:
    return {f"{ch}.{s}" for s in symbols for ch in CHANNELS}


def error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()["error"]
    return body


# -- REST: happy paths ---------------------------------------------------------------------------------------------


async def test_quote_from_rest_snapshot_with_strings_and_utc(market: httpx.AsyncClient, pg: PolygonDouble) -> None:
    response = await market.get("/api/v1/market/quote/aapl")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["symbol"] == "AAPL"
    assert body["source"] == "polygon:snapshot"
    for key in ("last", "bid", "ask", "prev_close", "change", "spread"):
        assert isinstance(body[key], str), key
    assert body["last"] == "14.2284" and body["bid"] == "14.2" and body["ask"] == "14.44"
    assert body["ts"].endswith("+00:00")
    hit = pg.hits("/v2/snapshot/locale/us/markets/stocks/tickers/AAPL")[-1]
    assert hit.headers["Authorization"] == f"Bearer {POLYGON_KEY}"
    assert POLYGON_KEY not in hit.url


async def test_dotted_and_lower_case_symbols_are_normalised(market: httpx.AsyncClient, pg: PolygonDouble) -> None:
    response = await market.get("/api/v1/market/quote/brk.b")
    assert response.status_code == 200, response.text
    assert response.json()["symbol"] == "BRK.B"
    assert pg.hits("/v2/snapshot/locale/us/markets/stocks/tickers/BRK.B")
    bars = await market.get("/api/v1/market/bars/ brk.b ", params={"limit": 2})
    assert bars.status_code == 200, bars.text
    assert bars.json()["symbol"] == "BRK.B"


async def test_bars_minute_and_day(market: httpx.AsyncClient) -> None:
    minute = await market.get("/api/v1/market/bars/spy", params={"limit": 3})
    assert minute.status_code == 200, minute.text
    body = minute.json()
    assert (body["symbol"], body["timespan"], len(body["items"])) == ("SPY", "minute", 3)
    first = body["items"][0]
    assert set(first) == {"start", "open", "high", "low", "close", "volume", "vwap"}
    assert isinstance(first["open"], str) and isinstance(first["volume"], int)
    starts = [item["start"] for item in body["items"]]
    assert starts == sorted(starts) and all(s.endswith("+00:00") for s in starts)

    day = await market.get("/api/v1/market/bars/SPY", params={"timespan": "day", "limit": 2})
    assert day.status_code == 200, day.text
    items = day.json()["items"]
    assert [i["close"] for i in items] == ["75.0875", "74.3575"]
    assert items[0]["start"] == "2020-01-02T05:00:00+00:00"


async def test_market_status(market: httpx.AsyncClient) -> None:
    response = await market.get("/api/v1/market/status")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["session"] == "closed" and body["is_open"] is False
    assert body["server_time"] == "2020-11-10T22:37:37+00:00"
    assert body["exchanges"]["nyse"] == "closed"


async def test_news_for_a_symbol_and_for_all(market: httpx.AsyncClient, pg: PolygonDouble) -> None:
    response = await market.get("/api/v1/market/news", params={"symbol": "aapl", "limit": 1})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["symbol"] == "AAPL"
    assert len(body["items"]) == 1
    assert body["items"][0]["title"] and body["items"][0]["article_url"].startswith("https://")
    asked = [h.query for h in pg.hits("/v2/reference/news") if h.query.get("limit") == "1"]  # not the news engine's
    assert asked[-1]["ticker"] == "AAPL"
    everything = await market.get("/api/v1/market/news", params={"symbol": ""})
    assert everything.status_code == 200, everything.text
    assert everything.json()["symbol"] is None
    assert any("ticker" not in h.query and "cursor" not in h.query for h in pg.hits("/v2/reference/news"))


async def test_stream_prices_snapshot_and_live_quote(market: httpx.AsyncClient, pg: PolygonDouble) -> None:
    await pg.wait_until(lambda: channels("SPY", "QQQ") <= pg.subscriptions)
    empty = (await market.get("/api/v1/stream/prices")).json()
    assert [row["symbol"] for row in empty["items"]] == ["QQQ", "SPY"]
    assert all(row["last"] is None and row["stale"] for row in empty["items"])
    assert empty["market_data"]["enabled"] is True

    await pg.push([trade("SPY", 512.25), quote("SPY", 512.2, 512.3)])
    deadline = time.monotonic() + 5
    while True:
        rows = {row["symbol"]: row for row in (await market.get("/api/v1/stream/prices")).json()["items"]}
        if rows["SPY"]["bid"] is not None or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.02)
    spy = rows["SPY"]
    assert (spy["last"], spy["bid"], spy["ask"], spy["stale"]) == ("512.25", "512.2", "512.3", False)
    assert spy["as_of"].endswith("+00:00") and spy["age_s"] is not None

    live = (await market.get("/api/v1/market/quote/spy")).json()
    assert (live["source"], live["last"], live["bid"], live["ask"]) == ("polygon:stream", "512.25", "512.2", "512.3")


# -- REST: bad input -----------------------------------------------------------------------------------------------


BAD_SYMBOL_PATHS = [
    "/api/v1/market/quote/%20",                   # empty after trimming
    "/api/v1/market/quote/",                      # empty
    "/api/v1/market/quote/ABCDEFGHIJKLMNOP",      # oversized
    "/api/v1/market/quote/" + "A" * 300,          # very oversized
    "/api/v1/market/quote/$$$",                   # garbage
    "/api/v1/market/quote/SPY;DROP",              # garbage
    "/api/v1/market/quote/1ABC",                  # must start with a letter
    "/api/v1/market/bars/%F0%9F%92%A5",           # an emoji
    "/api/v1/market/bars/",
    "/api/v1/market/news?symbol=not%20a%20symbol",
]


async def test_bad_symbols_are_422_naming_the_field(market: httpx.AsyncClient, pg: PolygonDouble) -> None:
    for path in BAD_SYMBOL_PATHS:  # one app for all cases: starting one is the slow part
        before = len(pg.requests)
        body = error(await market.get(path), 422)
        assert body["code"] == "invalid", path
        assert body["details"]["field"] == "symbol", path
        assert "symbol" in body["message"], path
        asked = [r.path for r in pg.requests[before:] if not r.path.endswith("/prev") and "marketstatus" not in r.path]
        assert asked == [], path  # refused before Polygon is asked


async def test_unknown_symbol_is_404_with_polygons_reason(market: httpx.AsyncClient) -> None:
    body = error(await market.get("/api/v1/market/quote/zzzz"), 404)
    assert body["code"] == "not_found"
    assert body["message"] == "Ticker not found."
    assert body["details"]["status"] == "NOT_FOUND"


BAD_BARS_QUERIES: list[tuple[dict[str, Any], str]] = [
    ({"limit": 0}, "limit"),
    ({"limit": 5001}, "limit"),
    ({"limit": -3}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"timespan": "fortnight"}, "timespan"),
    ({"timespan": ""}, "timespan"),
    ({"timespan": "MINUTE"}, "timespan"),
]


async def test_bad_bars_query_is_422_naming_the_field(market: httpx.AsyncClient) -> None:
    for query, field in BAD_BARS_QUERIES:
        body = error(await market.get("/api/v1/market/bars/SPY", params=query), 422)
        assert body["code"] == "invalid", query
        assert [d["field"] for d in body["details"]] == [field], query
        assert body["message"].startswith(f"invalid request: {field}:"), query


async def test_bad_news_limit_is_422(market: httpx.AsyncClient) -> None:
    for limit in (0, 101, "x"):
        body = error(await market.get("/api/v1/market/news", params={"limit": limit}), 422)
        assert [d["field"] for d in body["details"]] == ["limit"]


async def test_every_route_needs_the_api_key(market: httpx.AsyncClient) -> None:
    for path in ("/api/v1/market/quote/SPY", "/api/v1/market/bars/SPY", "/api/v1/market/status",
                 "/api/v1/market/news", "/api/v1/stream/prices"):
        assert (await market.get(path, headers={"X-API-Key": ""})).status_code == 401, path
        assert (await market.get(path, headers={"X-API-Key": "wrong"})).status_code == 401, path


async def test_polygon_outage_is_503_not_500(market: httpx.AsyncClient, pg: PolygonDouble) -> None:
    pg.fail("/v2/snapshot", 500, {"status": "ERROR", "error": "internal"}, times=5)
    body = error(await market.get("/api/v1/market/quote/MSFT"), 503)
    assert body["code"] == "external_transient"
    pg.fail("/v2/aggs/ticker/SPY/range", 403, {"status": "NOT_AUTHORIZED", "message": "upgrade your plan"})
    body = error(await market.get("/api/v1/market/bars/SPY"), 502)
    assert "upgrade your plan" in body["message"]


# -- disabled ------------------------------------------------------------------------------------------------------


async def test_disabled_without_key_is_503_with_how_to_enable(disabled: httpx.AsyncClient) -> None:
    for path in ("/api/v1/market/quote/SPY", "/api/v1/market/bars/SPY?timespan=day", "/api/v1/market/status",
                 "/api/v1/market/news?symbol=SPY"):
        body = error(await disabled.get(path), 503)
        assert body["code"] == "integration_disabled", path
        assert body["details"]["integration"] == "market_data"
        assert body["details"]["reason"] == "POLYGON_API_KEY is not set"
        assert "POLYGON_API_KEY" in body["details"]["how_to_enable"]
    # bad input is still reported as bad input first
    assert error(await disabled.get("/api/v1/market/quote/$$$"), 422)["code"] == "invalid"

    prices = (await disabled.get("/api/v1/stream/prices")).json()
    assert [row["symbol"] for row in prices["items"]] == ["QQQ", "SPY"]
    assert all(row["last"] is None for row in prices["items"])  # nothing invented
    status = prices["market_data"]
    assert (status["enabled"], status["state"]) == (False, "disabled")
    assert "POLYGON_API_KEY" in status["how_to_enable"]


# -- end to end: Polygon WS -> engine -> bus -> /ws, and live watchlist edits ----------------------------------------


async def _prices_until(ws: websockets.ClientConnection, done: Callable[[list[dict[str, Any]]], bool],
                        timeout: float = 10.0) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while not done(seen):
            event = orjson.loads(await ws.recv())
            if event["type"] == "price":
                seen.append(event)
    return seen


async def test_live_prices_reach_ws_and_watchlist_edits_resubscribe(
        make_settings: Callable[..., Settings], pg: PolygonDouble) -> None:
    app = create_app(polygon_settings(make_settings, pg, price_event_hz=5), roles=frozenset({"api", "engine"}))
    async with serve(app) as base, \
            httpx.AsyncClient(base_url=base, headers={"X-API-Key": API_KEY}, timeout=10) as http:
        await pg.wait_until(lambda: channels("SPY", "QQQ") <= pg.subscriptions, within=10)
        assert pg.ws_connects == 1
        ws_url = base.replace("http", "ws") + f"/ws?api_key={API_KEY}"
        async with websockets.connect(ws_url) as ws:
            # A busy tape: 60 SPY trades in separate frames, QQQ quotes, and an unwatched symbol.
            for i in range(60):
                await pg.push([trade("SPY", 500 + i / 100)])
            await pg.push([trade("QQQ", 440.5), quote("QQQ", 440.4, 440.6), trade("MSFT", 1.0)])
            seen = await _prices_until(ws, lambda s: any(e["symbol"] == "SPY" and e["last"] == "500.59" for e in s)
                                       and any(e["symbol"] == "QQQ" and e["bid"] == "440.4" for e in s))
            spy = [e for e in seen if e["symbol"] == "SPY"]
            assert len(spy) < 60, "price events must be coalesced per symbol"
            assert {e["symbol"] for e in seen} == {"SPY", "QQQ"}
            assert all(e["ts"].endswith("Z") and isinstance(e["seq"], int) for e in seen)
            qqq = next(e for e in seen if e["symbol"] == "QQQ" and e["bid"] == "440.4")
            assert (qqq["last"], qqq["ask"]) == ("440.5", "440.6")
            # change is against Polygon's previous close once it has loaded (never invented before that)
            assert all(e["change"] is None or isinstance(e["change"], str) for e in seen)

            rows = {r["symbol"]: r for r in (await http.get("/api/v1/stream/prices")).json()["items"]}
            assert rows["SPY"]["last"] == "500.59" and rows["QQQ"]["bid"] == "440.4"
            assert "MSFT" not in rows

            # Edit the watchlist: the open Polygon socket is (un)subscribed by difference, never reconnected.
            sent_before = len(pg.ws_messages)
            response = await http.put("/api/v1/settings", json={"watchlist": ["spy", "aapl"]})
            assert response.status_code == 200, response.text
            assert response.json()["watchlist"] == ["SPY", "AAPL"]
            await pg.wait_until(lambda: pg.subscriptions == channels("SPY", "AAPL"), within=10)
            control = pg.ws_messages[sent_before:]
            assert {"action": "unsubscribe", "params": ",".join(sorted(channels("QQQ")))} in control
            assert {"action": "subscribe", "params": ",".join(sorted(channels("AAPL")))} in control
            assert all(m["action"] != "auth" for m in control)
            assert pg.ws_connects == 1

            await pg.push([trade("QQQ", 999.0), trade("AAPL", 190.25)])
            later = await _prices_until(ws, lambda s: any(e["symbol"] == "AAPL" for e in s))
            assert all(e["symbol"] != "QQQ" for e in later)
            rows = {r["symbol"]: r for r in (await http.get("/api/v1/stream/prices")).json()["items"]}
            assert sorted(rows) == ["AAPL", "SPY"] and rows["AAPL"]["last"] == "190.25"
        assert pg.ws_connects == 1


async def test_runtime_with_a_live_feed_stops_promptly(make_settings: Callable[..., Settings], pg: PolygonDouble,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Ctrl-C budget: every engine, the Polygon socket included, stops well inside the runtime's grace period."""
    runtime = Runtime(polygon_settings(make_settings, pg), roles={"api", "engine"})
    async with runtime:
        await pg.wait_until(lambda: "T.SPY" in pg.subscriptions)
        started = time.monotonic()
    assert time.monotonic() - started < 1.5
    assert "task_not_stopped" not in capsys.readouterr().out
