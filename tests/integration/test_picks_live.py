"""Picks end to end against the Polygon double: minute aggregates pushed on its WebSocket make a pick appear,
trigger and invalidate on `/ws`; the REST list, one pick and the scorecard read the same picks; a plan without
snapshots scans the watchlist only and says so; without market data the routes answer 503."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
import websockets

from api.app import create_app
from core.domain.setups.session import MINUTE_MS, session_open_ms
from core.runtime import Runtime
from core.settings import PolygonSettings, Settings
from tests.conftest import API_KEY, serving
from tests.doubles.polygon import PolygonDouble, fixture
from tests.integration.test_api_market import polygon_settings, trade
from tests.serve import serve

RANGE = [(100, 101, 99.5, 100.2, 1000), (100.2, 100.8, 99, 99.6, 1000), (99.6, 100.5, 99.2, 100.4, 1000),
         (100.4, 100.9, 100, 100.5, 1000), (100.5, 100.9, 100.3, 100.6, 1000)]


def minute_agg(symbol: str, start_ms: int, row: tuple[float, float, float, float, float]) -> dict[str, Any]:
    """An `AM` event shaped like the recorded ws_stocks_AM_minute_agg.json, with this bar's values."""
    o, h, lo, c, v = row
    return {**fixture("ws_stocks_AM_minute_agg.json")[0], "sym": symbol, "o": o, "h": h, "l": lo, "c": c, "v": v,
            "vw": (h + lo + c) / 3, "s": start_ms, "e": start_ms + MINUTE_MS}


async def _picks_until(ws: Any, done: Callable[[dict[str, Any]], bool], within: float = 10) -> dict[str, Any]:
    async with asyncio.timeout(within):
        while True:
            event = orjson.loads(await ws.recv())
            if event["type"] == "picks":
                for item in event["items"]:
                    if done(item):
                        return item  # type: ignore[no-any-return]


async def test_a_pick_forms_triggers_and_invalidates_live_on_ws_and_is_scored(
        make_settings: Callable[..., Settings], pg: PolygonDouble) -> None:
    app = create_app(polygon_settings(make_settings, pg, watchlist=["AAPL"]), roles=frozenset({"api", "engine"}))
    async with serve(app) as base, \
            httpx.AsyncClient(base_url=base, headers={"X-API-Key": API_KEY}, timeout=10) as http:
        runtime: Runtime = app.state.runtime
        engine = runtime.picks_engine
        assert engine is not None
        await asyncio.wait_for(engine.ready.wait(), 10)
        open_ms = session_open_ms(datetime.now(UTC).date())  # today: REST history ends at today's midnight
        now = {"ms": open_ms + 5 * MINUTE_MS + 1_000}
        engine.clock = lambda: now["ms"]
        await pg.wait_until(lambda: "AM.AAPL" in pg.subscriptions, within=10)
        universe = (await http.get("/api/v1/picks")).json()["universe"]
        assert universe["symbols"] == ["AAPL"] and universe["source"] == "watchlist+movers"
        async with websockets.connect(base.replace("http", "ws") + f"/ws?api_key={API_KEY}") as ws:
            await pg.push([minute_agg("AAPL", open_ms + i * MINUTE_MS, row) for i, row in enumerate(RANGE)])
            forming = await _picks_until(ws, lambda p: p["setup"] == "orb5")
            assert (forming["status"], forming["direction"], forming["trigger"], forming["stop"]) == (
                "forming", "long", "101.00", "99.00")
            assert forming["targets"] == ["103.00", "105.00"] and forming["r_multiples"] == [1.0, 2.0]
            assert {f["name"] for f in forming["confidence"]["factors"]} >= {"trend", "distance_to_trigger"}

            await pg.push([trade("AAPL", 101.2, now["ms"])])
            triggered = await _picks_until(ws, lambda p: p["id"] == forming["id"] and p["status"] == "triggered")
            assert triggered["reason"] == "traded through the trigger"

            listed = (await http.get("/api/v1/picks", params={"setup": "orb5"})).json()
            assert [p["id"] for p in listed["items"]] == [forming["id"]]
            assert listed["items"][0]["size"] is None and "broker" in listed["items"][0]["size_note"]
            one = await http.get(f"/api/v1/picks/{forming['id']}")
            assert one.status_code == 200 and one.json()["status"] == "triggered"

            now["ms"] += 1_000
            await pg.push([trade("AAPL", 98.9, now["ms"])])
            stopped = await _picks_until(ws, lambda p: p["id"] == forming["id"] and p["status"] == "invalidated")
            assert stopped["outcome"]["result_r"] == -1.0 and stopped["outcome"]["reached_1r"] is False
        await engine.flush()
        stats = (await http.get("/api/v1/picks/stats")).json()
        orb = next(s for s in stats["setups"] if s["setup"] == "orb5")
        assert (orb["triggered"], orb["scored"], orb["hits"], orb["avg_r"]) == (1, 1, 0, -1.0)
        stored = await http.get(f"/api/v1/picks/{forming['id']}")
        assert stored.json()["status"] == "invalidated"
        assert (await http.post(f"/api/v1/picks/{forming['id']}/alert")).status_code == 409


async def test_a_plan_without_snapshots_scans_the_watchlist_only_and_says_so(
        make_settings: Callable[..., Settings], pg: PolygonDouble) -> None:
    pg.fail("/v2/snapshot/locale/us/markets/stocks/gainers", 403, fixture("error_403_not_authorized_v3_trades.json"),
            times=10)
    app = create_app(polygon_settings(make_settings, pg, watchlist=["AAPL", "MSFT"]),
                     roles=frozenset({"api", "engine"}))
    async with serving(app) as http:
        engine = app.state.runtime.picks_engine
        await asyncio.wait_for(engine.ready.wait(), 10)
        body = (await http.get("/api/v1/picks")).json()
        assert body["universe"]["symbols"] == ["AAPL", "MSFT"] and body["universe"]["source"] == "watchlist"
        assert "no stock snapshots" in body["universe"]["reason"] and "not entitled" in body["universe"]["reason"]
        assert body["items"] == []


async def test_picks_without_market_data_is_503_with_how_to_enable(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(polygon=PolygonSettings(api_key=None)), roles=frozenset({"api", "engine"}))
    async with serving(app) as http:
        response = await http.get("/api/v1/picks")
        assert response.status_code == 503, response.text
        assert "POLYGON_API_KEY" in response.text
        assert (await http.get("/api/v1/picks/stats")).status_code == 200


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"setup": "moonshot"}, {"symbol": "not a symbol!"}])
async def test_bad_list_parameters_are_422(make_settings: Callable[..., Settings], pg: PolygonDouble,
                                           params: dict[str, Any]) -> None:
    app = create_app(polygon_settings(make_settings, pg), roles=frozenset({"api"}))
    async with serving(app) as http:
        response = await http.get("/api/v1/picks", params=params)
        assert response.status_code == 422, response.text


async def test_an_unknown_pick_is_404(make_settings: Callable[..., Settings], pg: PolygonDouble) -> None:
    app = create_app(polygon_settings(make_settings, pg), roles=frozenset({"api"}))
    async with serving(app) as http:
        assert (await http.get("/api/v1/picks/nope")).status_code == 404
        assert (await http.post("/api/v1/picks/nope/take")).status_code == 404
