"""News source states cross processes: the engine runtime fetches (Polygon outside the plan, a feed that is
down, a feed that answers), and a separate API runtime on the same database says which is which, and when each
was last asked."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from api.app import create_app
from core.runtime import Runtime
from core.settings import PolygonSettings, Settings
from tests.conftest import serving
from tests.doubles.feeds import FeedHost
from tests.doubles.polygon import API_KEY as POLYGON_KEY
from tests.doubles.polygon import PolygonDouble
from tests.doubles.polygon import fixture as polygon_fixture


async def sources_once(http: httpx.AsyncClient, want: set[str]) -> dict[str, dict[str, Any]]:
    """The API's source states as soon as every name in `want` is there (the engine's first pass)."""
    async def poll() -> dict[str, dict[str, Any]]:
        while True:
            response = await http.get("/api/v1/news")
            assert response.status_code == 200, response.text
            found = {s["source"]: s for s in response.json()["sources"]}
            if want <= {name for name, s in found.items() if s["last_fetch_at"]}:
                return found
            await asyncio.sleep(0.1)
    return await asyncio.wait_for(poll(), 20)


async def test_the_api_process_shows_the_states_the_engine_process_saw(
        make_settings: Callable[..., Settings], database_url: str, pg: PolygonDouble) -> None:
    pg.fail("/v2/reference/news", 403, polygon_fixture("error_403_not_authorized_v3_trades.json"), times=10_000)
    polygon = PolygonSettings(api_key=POLYGON_KEY, rest_url=pg.rest_url, ws_url=pg.ws_url)
    settings = make_settings(database_url=database_url, polygon=polygon, watchlist=["NVDA"], news_poll_sec=0.2)
    app = create_app(settings, roles=frozenset({"api"}))
    async with FeedHost() as host, serving(app) as http:
        api: Runtime = app.state.runtime
        await api.settings_service.update({"news_feeds": [
            {"label": "Desk Wire", "url": host.url("markets_rss.xml")},
            {"label": "Down", "url": "http://127.0.0.1:9/feed.xml"}]})
        async with Runtime(settings, roles={"engine"}) as engine:
            assert engine.news_engine is not None and api.news_engine is None  # only the engine fetches
            found = await sources_once(http, {"polygon", "feed:Desk Wire", "feed:Down"})
        # the states outlive the engine: they are in the database, not in its memory
        kept = {s.source: s.state for s in (await api.news.page()).sources}
    assert found["polygon"]["state"] == "not_entitled" and "not entitled" in found["polygon"]["reason"]
    assert found["feed:Down"]["state"] == "error" and "unreachable" in found["feed:Down"]["reason"]
    assert found["feed:Desk Wire"]["state"] == "ok"
    assert kept == {"feed:Desk Wire": "ok", "feed:Down": "error", "polygon": "not_entitled"}


async def test_a_source_this_process_is_not_configured_for_is_said_before_any_fetch(
        make_settings: Callable[..., Settings], database_url: str) -> None:
    app = create_app(make_settings(database_url=database_url, polygon=PolygonSettings(api_key=None)),
                     roles=frozenset({"api"}))
    async with serving(app) as http:
        body = (await http.get("/api/v1/news")).json()
    assert body["sources"] == [{"source": "polygon", "state": "disabled", "reason": "POLYGON_API_KEY is not set",
                                "how_to_enable": body["sources"][0]["how_to_enable"], "last_fetch_at": None}]
