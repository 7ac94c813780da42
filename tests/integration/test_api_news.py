"""News and earnings through the API: Polygon (recorded news with insights and next_url, Benzinga earnings),
the local feed host (RSS + Atom with conditional requests) and Tradier's calendars, stored, deduplicated and
served; source states instead of empty lists; the plan warnings; and `news` events on /ws."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
import websockets
from fastapi import FastAPI

from api.app import create_app
from core.domain.news import ET
from core.runtime import Runtime
from core.settings import PolygonSettings, Settings, TradierSettings
from tests.conftest import API_KEY, serving
from tests.doubles.feeds import FeedHost
from tests.doubles.polygon import API_KEY as POLYGON_KEY
from tests.doubles.polygon import PolygonDouble
from tests.doubles.polygon import fixture as polygon_fixture
from tests.doubles.tradier import ACCOUNT, TOKEN, TradierDouble
from tests.serve import serve

WATCH = ["UBS", "NVDA", "AAPL", "MSFT"]
UBS_TITLE = "Markets are underestimating Fed cuts: UBS By Investing.com - Investing.com UK"


@pytest.fixture
async def host() -> AsyncIterator[FeedHost]:
    async with FeedHost() as feeds:
        yield feeds


def news_settings(make_settings: Callable[..., Settings], database_url: str, pg: PolygonDouble | None,
                  tradier: TradierDouble | None, **overrides: Any) -> Settings:
    polygon = PolygonSettings(api_key=POLYGON_KEY, rest_url=pg.rest_url, ws_url=pg.ws_url) if pg else \
        PolygonSettings(api_key=None)
    broker = TradierSettings(access_token=TOKEN, account_id=ACCOUNT, base_url=tradier.base_url) if tradier else \
        TradierSettings(access_token=None)
    return make_settings(database_url=database_url, polygon=polygon, tradier=broker, watchlist=WATCH, **overrides)


def feeds_of(host: FeedHost) -> list[dict[str, str]]:
    return [{"label": "Desk Wire", "url": host.url("markets_rss.xml")},
            {"label": "Filings", "url": host.url("filings_atom.xml")}]


@pytest.fixture
async def app(make_settings: Callable[..., Settings], database_url: str, pg: PolygonDouble,
              tradier: TradierDouble, host: FeedHost) -> AsyncIterator[FastAPI]:
    """API role only: the tests drive `refresh()` themselves."""
    application = create_app(news_settings(make_settings, database_url, pg, tradier), roles=frozenset({"api"}))
    async with application.router.lifespan_context(application):
        await application.state.runtime.settings_service.update({"news_feeds": feeds_of(host)})
        yield application


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                 headers={"X-API-Key": API_KEY}) as client:
        yield client


def runtime_of(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def states(body: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {s["source"]: (s["state"], s["reason"]) for s in body["sources"]}


async def test_sources_are_ingested_deduplicated_tagged_and_served(app: FastAPI, http: httpx.AsyncClient,
                                                                  host: FeedHost, pg: PolygonDouble) -> None:
    stored = await runtime_of(app).news.refresh()
    assert len(stored) == 5
    body = ok(await http.get("/api/v1/news"))
    titles = [item["title"] for item in body["items"]]
    assert titles == ["MSFT files 8-K: board declares quarterly dividend",
                      "NVDA extends rally as data-center orders beat estimates",
                      "Chipmakers slip; $AAPL supplier warns on handset demand",
                      UBS_TITLE, f"{UBS_TITLE} (page 2)"]
    by_title = {item["title"]: item for item in body["items"]}
    ubs = by_title[UBS_TITLE]
    # Polygon's copy is kept (first seen); the RSS relay with tracking parameters is the same link.
    assert ubs["source"] == "polygon" and ubs["symbols"] == ["UBS"]
    assert ubs["sentiment"]["value"] == "positive" and ubs["sentiment"]["symbol"] == "UBS"
    assert "bullish" in ubs["sentiment"]["reasoning"] and ubs["published_at"] == "2024-06-24T18:33:53+00:00"
    nvda = by_title["NVDA extends rally as data-center orders beat estimates"]
    assert nvda["source"] == "feed:Desk Wire" and nvda["symbols"] == ["NVDA"] and nvda["sentiment"] is None
    assert by_title["Chipmakers slip; $AAPL supplier warns on handset demand"]["symbols"] == ["AAPL"]
    assert body["next_cursor"] is None
    assert states(body) == {"polygon": ("ok", "4 watched symbols"), "feed:Desk Wire": (
        "ok", "3 items, 1 entries without a link, title or date skipped"), "feed:Filings": ("ok", "2 items")}

    # Nothing new: feeds answer 304 to the validators they sent, nothing is stored twice.
    assert await runtime_of(app).news.refresh() == []
    assert {h.status for h in host.hits[-2:]} == {304}
    assert len(ok(await http.get("/api/v1/news"))["items"]) == 5


async def test_filters_and_cursor_pages(app: FastAPI, http: httpx.AsyncClient) -> None:
    await runtime_of(app).news.refresh()
    only = ok(await http.get("/api/v1/news", params={"symbols": "nvda, aapl"}))
    assert [i["symbols"] for i in only["items"]] == [["NVDA"], ["AAPL"]]
    recent = ok(await http.get("/api/v1/news", params={"since": "2026-12-04T19:00:00Z"}))
    assert len(recent["items"]) == 2
    seen, cursor = [], None
    while True:
        page = ok(await http.get("/api/v1/news", params={"limit": 2, **({"cursor": cursor} if cursor else {})}))
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/api/v1/news", {"limit": 0}, "limit"),
    ("/api/v1/news", {"cursor": "not-a-cursor"}, "cursor"),
    ("/api/v1/news", {"symbols": "not a symbol"}, "symbols"),
    ("/api/v1/news", {"since": "yesterday"}, "since"),
    ("/api/v1/earnings", {"symbols": "MSFT", "from": "2026-02-01", "to": "2026-01-01"}, "to"),
    ("/api/v1/earnings", {"symbols": "MSFT", "from": "2026-13-01"}, "from"),
])
async def test_bad_input_is_422_naming_the_field(http: httpx.AsyncClient, path: str, params: dict[str, Any],
                                                 field: str) -> None:
    response = await http.get(path, params=params)
    assert response.status_code == 422, response.text
    assert field in response.text


async def test_feed_settings_refuse_other_schemes(http: httpx.AsyncClient) -> None:
    response = await http.put("/api/v1/settings", json={"news_feeds": [{"label": "x", "url": "ftp://x.example/f"}]})
    assert response.status_code == 422 and "http://" in response.text
    twice = [{"label": "x", "url": "http://127.0.0.1:1/a"}, {"label": "x", "url": "http://127.0.0.1:1/b"}]
    assert (await http.put("/api/v1/settings", json={"news_feeds": twice})).status_code == 422


async def test_earnings_from_both_calendars_with_their_sources(http: httpx.AsyncClient, pg: PolygonDouble) -> None:
    example = polygon_fixture("docs_benzinga_earnings.json")["results"][0]
    pg.earnings_rows = [{**example, "ticker": "MSFT", "date": "2013-01-24", "time": "21:05:00"}]
    body = ok(await http.get("/api/v1/earnings", params={"symbols": "MSFT", "from": "2013-01-01",
                                                         "to": "2013-02-01"}))
    # Both calendars know the day; Benzinga also knows the time (21:05 UTC = 16:05 New York: after the close).
    assert body["items"] == [{"symbol": "MSFT", "date": "2013-01-24", "time": "amc", "source": "polygon:benzinga",
                              "confirmed": True}]
    assert states(body) == {"polygon:benzinga": ("ok", "1 releases"), "tradier:calendars": ("ok", "1 releases")}


async def test_missing_entitlement_is_said_never_an_empty_calendar(http: httpx.AsyncClient,
                                                                  pg: PolygonDouble) -> None:
    pg.fail("/benzinga/v1/earnings", 403, polygon_fixture("error_403_not_authorized_v3_trades.json"))
    body = ok(await http.get("/api/v1/earnings", params={"symbols": "MSFT", "from": "2013-01-01",
                                                         "to": "2013-02-01"}))
    assert [(i["source"], i["time"]) for i in body["items"]] == [("tradier:calendars", "unknown")]
    state, reason = states(body)["polygon:benzinga"]
    assert state == "not_entitled" and "not entitled to this data" in reason and "upgrade" in reason


async def test_polygon_news_outside_the_plan_is_not_entitled_and_stops_the_pass(
        app: FastAPI, http: httpx.AsyncClient, pg: PolygonDouble) -> None:
    pg.fail("/v2/reference/news", 403, polygon_fixture("error_403_not_authorized_v3_trades.json"))
    stored = await runtime_of(app).news.refresh()
    assert {item.source for item in stored} == {"feed:Desk Wire", "feed:Filings"}  # the feeds still count
    assert len(pg.hits("/v2/reference/news")) == 1  # not once per watched symbol
    state, reason = states(ok(await http.get("/api/v1/news")))["polygon"]
    assert state == "not_entitled" and "not entitled to this data" in reason


async def test_disabled_sources_and_an_unreachable_feed_are_shown_as_such(
        make_settings: Callable[..., Settings], database_url: str) -> None:
    app = create_app(news_settings(make_settings, database_url, None, None), roles=frozenset({"api"}))
    async with serving(app) as client:
        runtime = runtime_of(app)
        await runtime.settings_service.update({"news_feeds": [{"label": "Local", "url": "http://127.0.0.1:9/f"}]})
        assert await runtime.news.refresh() == []
        body = ok(await client.get("/api/v1/news"))
        assert body["items"] == []
        assert states(body)["polygon"] == ("disabled", "POLYGON_API_KEY is not set")
        state, reason = states(body)["feed:Local"]
        assert state == "error" and "unreachable" in reason
        earnings = ok(await client.get("/api/v1/earnings", params={"symbols": "NVDA"}))
        assert earnings["items"] == []
        assert {k: v[0] for k, v in states(earnings).items()} == {"polygon:benzinga": "disabled",
                                                                  "tradier:calendars": "disabled"}


async def test_plan_warns_of_earnings_in_the_hold_and_of_breaking_news(app: FastAPI, http: httpx.AsyncClient,
                                                                      pg: PolygonDouble, host: FeedHost) -> None:
    today = datetime.now(ET).date().isoformat()
    example = polygon_fixture("docs_benzinga_earnings.json")["results"][0]
    pg.earnings_rows = [{**example, "ticker": "NVDA", "date": today, "time": "00:00:00"}]
    host.add_rss_item("markets_rss.xml", title="NVDA halted pending news", link="https://desk-wire.example/halt",
                      published=datetime.now(UTC) - timedelta(minutes=3))
    await runtime_of(app).news.refresh()
    plan = {"side": "long", "entry": "14.20", "stop": "14.00", "targets": ["14.80"], "symbol": "NVDA"}
    body = ok(await http.post("/api/v1/plan/validate", json=plan))
    codes = {w["code"]: w["message"] for w in body["warnings"]}
    assert today in codes["earnings_in_hold"] and "polygon:benzinga" in codes["earnings_in_hold"]
    assert "NVDA halted pending news" in codes["news_breaking"]
    calm = ok(await http.post("/api/v1/plan/validate", json={**plan, "symbol": "AAPL", "hold": "overnight"}))
    assert {"earnings_in_hold", "news_breaking"}.isdisjoint(w["code"] for w in calm["warnings"])
    # the same catalysts weigh in a pick's confidence, for the watched symbols the refresh follows
    factor = runtime_of(app).news.pick_factor("NVDA")
    assert factor is not None and factor.name == "event_risk" and factor.value == 0.2
    assert runtime_of(app).news.pick_factor("ZZZZ") is None  # not followed: nothing is claimed about it
    bad = await http.post("/api/v1/plan/validate", json={**plan, "hold": "forever"})
    assert bad.status_code == 422 and "hold" in bad.text


async def test_a_new_item_on_a_watched_symbol_reaches_ws(make_settings: Callable[..., Settings],
                                                         database_url: str, pg: PolygonDouble,
                                                         host: FeedHost) -> None:
    settings = news_settings(make_settings, database_url, pg, None, news_poll_sec=0.2)
    app = create_app(settings, roles=frozenset({"api", "engine"}))
    async with serve(app) as base, websockets.connect(base.replace("http", "ws") + f"/ws?api_key={API_KEY}") as ws:
        await runtime_of(app).settings_service.update({"news_feeds": feeds_of(host)})
        host.add_rss_item("markets_rss.xml", title="$MSFT raises dividend", link="https://desk-wire.example/d",
                          published=datetime.now(UTC) - timedelta(minutes=1), summary="Board vote.")
        event = await _next_news(ws, "$MSFT raises dividend")
        assert event["symbols"] == ["MSFT"] and event["source"] == "feed:Desk Wire"
        assert event["url"] == "https://desk-wire.example/d" and event["summary"] == "Board vote."
        assert isinstance(event["seq"], int) and event["published_at"].endswith("+00:00")


async def _next_news(ws: Any, title: str) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        while True:
            event: dict[str, Any] = orjson.loads(await ws.recv())
            if event["type"] == "news" and event["title"] == title:
                return event
    return await asyncio.wait_for(read(), 10)
