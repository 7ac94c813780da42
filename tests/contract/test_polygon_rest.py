"""PolygonMarketData against the local Polygon double: real httpx, fixtures, and every mapped fault."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import structlog
from pydantic import SecretStr

from api.app import create_app
from api.errors import http_status
from core.adapters.polygon.rest import PolygonMarketData
from core.domain.market import MarketSession
from core.domain.setups.session import MinuteBar
from core.errors import ExternalPermanent, ExternalTransient, IntegrationDisabled, Invalid, MalformedAnswer, NotFound
from core.settings import Settings
from tests.conftest import serving
from tests.doubles.polygon import API_KEY, PolygonDouble


async def test_aggregates_follow_next_url_with_the_key_in_the_header_only(pg: PolygonDouble,
                                                                         md: PolygonMarketData) -> None:
    bars = await md.bars("AAPL", multiplier=1, timespan="day", start=date(2020, 1, 1), end=date(2020, 1, 10))
    assert len(bars) == 4
    assert bars[0].close == Decimal("75.0875") and bars[0].volume == 135647456
    assert bars[0].start == datetime(2020, 1, 2, 5, tzinfo=UTC)
    hits = pg.hits("/v2/aggs")
    assert len(hits) == 2
    assert hits[1].path == "/v2/aggs/ticker/AAPL/range/1/day/1578114000000/2020-01-10"
    assert hits[1].query == {"cursor": "bGltaXQ9MiZzb3J0PWFzYw"}
    for hit in pg.requests:
        assert hit.headers["Authorization"] == f"Bearer {API_KEY}"
        assert API_KEY not in hit.url and "apiKey" not in hit.query


async def test_aggregates_any_multiplier_and_ms_bounds(pg: PolygonDouble, md: PolygonMarketData) -> None:
    start = 1_700_000_000_000 - 1_700_000_000_000 % 60_000
    bars = await md.bars("SPY", multiplier=5, timespan="minute", start=start, end=start + 120_000)
    assert bars[0].start == datetime.fromtimestamp(start / 1000, UTC)
    assert pg.hits("/v2/aggs")[0].path.endswith(f"/range/5/minute/{start}/{start + 120_000}")


async def test_aggregates_without_results_key_are_empty(pg: PolygonDouble, md: PolygonMarketData) -> None:
    pg.fail("/v2/aggs", 200, {"ticker": "AAPL", "queryCount": 0, "resultsCount": 0, "status": "OK",
                              "request_id": "x", "adjusted": True})
    assert await md.bars("AAPL", multiplier=1, timespan="day", start=date(2024, 1, 6),
                         end=date(2024, 1, 7)) == []


async def test_delayed_status_is_success(pg: PolygonDouble, md: PolygonMarketData) -> None:
    pg.fail("/v2/aggs", 200, {"status": "DELAYED", "request_id": "d",
                              "results": [{"o": 1, "h": 2, "l": 0.5, "c": 1.5, "v": 10, "t": 1632369600000}]})
    bars = await md.bars("O:X", multiplier=1, timespan="day", start=date(2021, 1, 1), end=date(2021, 1, 2))
    assert bars[0].high == Decimal(2)


async def test_minute_bars_are_plain_floats_over_every_page(pg: PolygonDouble, md: PolygonMarketData) -> None:
    start = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)
    first_ms = int(start.timestamp() * 1000)
    page = {"status": "OK", "resultsCount": 1, "request_id": "p1",
            "results": [{"o": 10.5, "h": 11, "l": 10.25, "c": 10.75, "v": 1200, "vw": 10.6, "n": 9, "t": first_ms}],
            "next_url": f"https://api.polygon.io/v2/aggs/ticker/AAPL/range/1/minute/{first_ms + 60_000}/"
                        f"{first_ms + 180_000}?cursor=c2&apiKey=leaked"}
    pg.fail("/v2/aggs", 200, page)
    bars = await md.minute_bars("AAPL", date(2024, 3, 4), date(2024, 3, 5))
    assert bars[0] == MinuteBar(first_ms, 10.5, 11.0, 10.25, 10.75, 1200.0)
    assert [bar.start_ms for bar in bars[1:]] == [first_ms + 60_000, first_ms + 120_000, first_ms + 180_000]
    assert all(type(value) is float for bar in bars for value in bar[1:])
    first, second = pg.hits("/v2/aggs")
    assert first.path == "/v2/aggs/ticker/AAPL/range/1/minute/2024-03-04/2024-03-05"
    assert first.query == {"adjusted": "true", "sort": "asc", "limit": "50000"}
    assert second.query == {"cursor": "c2"}  # the key rides in the header, never in a followed URL


async def test_minute_bars_without_results_are_empty_only_when_polygon_counted_none(
        pg: PolygonDouble, md: PolygonMarketData) -> None:
    pg.fail("/v2/aggs", 200, {"status": "OK", "resultsCount": 0, "request_id": "e"})
    assert await md.minute_bars("AAPL", date(2024, 1, 6), date(2024, 1, 7)) == []
    pg.fail("/v2/aggs", 200, {"status": "DELAYED", "resultsCount": 3, "request_id": "m"})
    with pytest.raises(MalformedAnswer, match='expected "results" as a list of bars'):
        await md.minute_bars("AAPL", date(2024, 1, 8), date(2024, 1, 9))


async def test_minute_bars_raise_polygons_error_status_and_refuse_a_body_not_json(pg: PolygonDouble,
                                                                                 md: PolygonMarketData) -> None:
    pg.fail("/v2/aggs", 200, {"status": "ERROR", "error": "from is after to"})
    with pytest.raises(ExternalPermanent, match="from is after to"):
        await md.minute_bars("AAPL", date(2024, 1, 9), date(2024, 1, 8))
    pg.fail("/v2/aggs", 200, {"status": "NOT_FOUND", "message": "no such ticker"})
    with pytest.raises(NotFound, match="no such ticker"):
        await md.minute_bars("ZZZZ", date(2024, 1, 8), date(2024, 1, 9))
    pg.fail("/v2/aggs", 200, "<html>gateway</html>")
    with pytest.raises(ExternalPermanent, match="not JSON"):
        await md.minute_bars("AAPL", date(2024, 1, 8), date(2024, 1, 9))


async def test_bad_timespan_is_invalid(md: PolygonMarketData) -> None:
    with pytest.raises(Invalid):
        await md.bars("AAPL", multiplier=1, timespan="fortnight", start=date(2020, 1, 1), end=date(2020, 1, 2))


async def test_previous_close_and_snapshots(md: PolygonMarketData) -> None:
    prev = await md.previous_close("AAPL")
    assert prev is not None and prev.close == Decimal("74.3575")
    quote = await md.quote("BRK.B")
    assert quote.symbol == "BRK.B" and quote.last == Decimal("14.2284")
    assert (quote.bid, quote.ask, quote.prev_close) == (Decimal("14.2"), Decimal("14.44"), Decimal("0.73"))
    assert quote.ts == datetime(2020, 11, 12, 15, 44, 8, 258266, tzinfo=UTC)  # ns, exact
    many = await md.snapshots(["AAPL", "ZZZZ", "MSFT"])
    assert [q.symbol for q in many] == ["AAPL", "MSFT"]
    assert [q.symbol for q in await md.movers("gainers")] == ["PDS"]


async def test_last_trade_and_nbbo_nanoseconds_are_exact(md: PolygonMarketData) -> None:
    trade = await md.last_trade("O:TSLA210903C00700000")
    assert trade.price == Decimal("115.55") and trade.size == 25
    assert trade.ts == datetime(2021, 4, 8, 17, 2, 22, 969834, tzinfo=UTC)
    nbbo = await md.last_quote("AAPL")
    assert (nbbo.bid, nbbo.ask, nbbo.bid_size, nbbo.ask_size) == (Decimal("127.96"), Decimal("127.98"), 1, 7)
    assert nbbo.ts == datetime(2021, 4, 7, 20, 27, 1, 349730, tzinfo=UTC)


async def test_news_market_status_and_holidays(md: PolygonMarketData) -> None:
    news = await md.news("UBS", limit=5)
    assert news[0].publisher == "Investing.com" and news[0].insights and news[0].insights[0].sentiment == "positive"
    status = await md.market_status()
    assert status.session is MarketSession.OPEN and status.is_open and status.exchanges["nyse"] == "open"
    assert status.server_time is not None and status.server_time.utcoffset() is not None
    holidays = await md.upcoming_holidays()
    assert holidays[1].status == "early-close" and holidays[1].close is not None


async def test_options_chain_paginates_and_greeks_are_optional(pg: PolygonDouble, md: PolygonMarketData) -> None:
    chain = await md.options_chain("AAPL")
    assert [c.option_type for c in chain] == ["call", "put"]
    assert chain[0].greeks is not None and chain[0].greeks.delta == 1 and chain[0].greeks.mid_iv == 5
    assert chain[1].greeks is None
    assert chain[0].strike == Decimal(150) and chain[0].quote.bid == Decimal("120.28")
    assert pg.hits("/v3/snapshot/options")[1].query == {"cursor": "cGFnZTI"}


async def test_401_is_integration_disabled_with_vendor_reason(pg: PolygonDouble) -> None:
    async with PolygonMarketData(pg.rest_url, SecretStr("wrong")) as md:
        with pytest.raises(IntegrationDisabled) as err:
            await md.market_status()
    assert "Unknown API Key" in err.value.reason


async def test_403_not_authorized_is_permanent_with_vendor_message(pg: PolygonDouble,
                                                                  md: PolygonMarketData) -> None:
    pg.fail("/v2/last/nbbo", 403, {"status": "NOT_AUTHORIZED", "request_id": "f61a",
                                   "message": "You are not entitled to this data."})
    with pytest.raises(ExternalPermanent) as err:
        await md.last_quote("AAPL")
    assert "not entitled" in err.value.message and err.value.details["status"] == "NOT_AUTHORIZED"
    assert len(pg.hits("/v2/last/nbbo")) == 1  # never retried


async def test_unknown_ticker_is_not_found_with_polygons_reason(md: PolygonMarketData) -> None:
    with pytest.raises(NotFound) as err:
        await md.quote("ZZZZ")
    assert err.value.message == "Ticker not found."


async def test_plain_text_404(pg: PolygonDouble, md: PolygonMarketData) -> None:
    with pytest.raises(NotFound) as err:
        await md._get("/v9/nothing")
    assert err.value.message == "404 page not found"


async def test_429_is_retried_honouring_retry_after(pg: PolygonDouble, md: PolygonMarketData) -> None:
    pg.fail("/v1/marketstatus", 429, {"status": "ERROR", "error": "You've exceeded the maximum requests"},
            headers={"Retry-After": "0.3"})
    started = time.monotonic()
    status = await md.market_status()
    assert status.is_open and time.monotonic() - started >= 0.3
    assert len(pg.hits("/v1/marketstatus")) == 2


async def test_5xx_retries_are_bounded_then_transient(pg: PolygonDouble, md: PolygonMarketData) -> None:
    pg.fail("/v2/snapshot", 500, "internal error", times=5)
    with pytest.raises(ExternalTransient) as err:
        await md.quote("AAPL")
    assert "internal error" in err.value.message
    assert len(pg.hits("/v2/snapshot")) == 3


async def test_long_retry_after_is_not_waited_for(pg: PolygonDouble, md: PolygonMarketData) -> None:
    pg.fail("/v2/snapshot", 429, "", headers={"Retry-After": "120"})
    with pytest.raises(ExternalTransient) as err:
        await md.quote("AAPL")
    assert err.value.retry_after == 120 and len(pg.hits("/v2/snapshot")) == 1


async def test_slow_response_times_out_as_transient(pg: PolygonDouble) -> None:
    pg.fail("/v1/marketstatus", 200, {"market": "open"}, delay=1.0, times=3)
    async with PolygonMarketData(pg.rest_url, SecretStr(API_KEY), timeout=0.2, attempts=2,
                                 backoff_max=0.01) as md:
        with pytest.raises(ExternalTransient, match="timed out"):
            await md.market_status()


async def test_error_key_or_message_key_both_read(pg: PolygonDouble, md: PolygonMarketData) -> None:
    pg.fail("/v2/last/trade", 400, {"status": "ERROR", "error": "bad ticker format"})
    with pytest.raises(ExternalPermanent, match="bad ticker format"):
        await md.last_trade("AAPL")
    pg.fail("/v2/last/trade", 400, {"status": "ERROR", "message": "bad date"})
    with pytest.raises(ExternalPermanent, match="bad date"):
        await md.last_trade("AAPL")


async def test_key_never_logged(pg: PolygonDouble, md: PolygonMarketData) -> None:
    pg.fail("/v2/snapshot", 503, "unavailable", times=1)
    with structlog.testing.capture_logs() as logs:
        await md.quote("AAPL")
    assert logs and API_KEY not in repr(logs)


# Each REST method, the path its request takes, and a call. A malformed answer to any of them is an error that
# names Polygon, the request and what came back: never an empty list, a closed market or a missing price.
CALLS: dict[str, tuple[str, Callable[[PolygonMarketData], Awaitable[object]]]] = {
    "bars": ("/v2/aggs", lambda md: md.bars("AAPL", multiplier=1, timespan="day", start=date(2020, 1, 1),
                                            end=date(2020, 1, 10))),
    "minute_bars": ("/v2/aggs", lambda md: md.minute_bars("AAPL", date(2020, 1, 2), date(2020, 1, 3))),
    "previous_close": ("/v2/aggs", lambda md: md.previous_close("AAPL")),
    "quote": ("/v2/snapshot/locale/us/markets/stocks/tickers/", lambda md: md.quote("AAPL")),
    "snapshots": ("/v2/snapshot/locale/us/markets/stocks/tickers", lambda md: md.snapshots(["AAPL"])),
    "movers": ("/v2/snapshot/locale/us/markets/stocks/gainers", lambda md: md.movers("gainers")),
    "last_trade": ("/v2/last/trade", lambda md: md.last_trade("AAPL")),
    "last_quote": ("/v2/last/nbbo", lambda md: md.last_quote("AAPL")),
    "news": ("/v2/reference/news", lambda md: md.news("AAPL")),
    "market_status": ("/v1/marketstatus/now", lambda md: md.market_status()),
    "upcoming_holidays": ("/v1/marketstatus/upcoming", lambda md: md.upcoming_holidays()),
    "options_chain": ("/v3/snapshot/options", lambda md: md.options_chain("AAPL")),
}
MALFORMED: dict[str, list[object]] = {
    "bars": [{"status": "OK", "results": "none"}, {"status": "OK", "resultsCount": 1},
             {"status": "OK", "results": [{"o": 1, "h": 1, "l": 1, "t": 1}]}, {"status": "OK", "results": [7]}],
    "minute_bars": [{"status": "OK", "results": "none"}, {"status": "OK", "resultsCount": 1},
                    {"status": "OK", "results": [{"o": 1, "h": 1, "l": 1, "v": 1, "t": 1}]},
                    {"status": "OK", "results": [{"o": "1", "h": 1, "l": 1, "c": 1, "v": 1, "t": 1}]},
                    {"status": "OK", "results": [7]}, {"results": []}],
    "previous_close": [{"status": "OK", "results": {"c": 1}}, {"status": "OK", "results": [{"T": "AAPL"}]}],
    "quote": [{"status": "OK"}, {"status": "OK", "ticker": {"day": {}}}, {"status": "OK", "ticker": []}],
    "snapshots": [{"status": "OK"}, {"status": "OK", "tickers": [{"lastTrade": {"p": 1}}]}],
    "movers": [{"status": "OK", "tickers": None}, {"status": "OK", "tickers": ["AAPL"]}],
    "last_trade": [{"status": "OK", "results": {"s": 5}}, {"status": "OK", "results": {"p": "x", "t": 1}}],
    "last_quote": [{"status": "OK", "results": {}}, {"status": "OK", "results": {"p": 1, "P": 2}}],
    "news": [{"status": "OK"}, {"status": "OK", "results": ["headline"]},
             {"status": "OK", "results": [{"title": "x", "tickers": "AAPL"}]}],
    "market_status": [{"market": "maybe"}, {"market": "open", "exchanges": "all"}, []],
    "upcoming_holidays": [{"status": "OK"}, [{"name": "Thanksgiving"}], [{"date": "26/11/2020"}]],
    "options_chain": [{"status": "OK", "results": {}}, {"status": "OK", "results": [{"details": {}}]}],
}


@pytest.mark.parametrize("method", sorted(CALLS))
async def test_ok_true_is_a_malformed_answer_not_empty_data(pg: PolygonDouble, md: PolygonMarketData,
                                                            method: str) -> None:
    path, call = CALLS[method]
    pg.fail(path, 200, {"ok": True})
    with pytest.raises(MalformedAnswer) as err:
        await call(md)
    assert err.value.message.startswith("Polygon answered ")
    assert '{"ok":true}' in err.value.message
    assert http_status(err.value) == 502 and err.value.code == "vendor_malformed"


@pytest.mark.parametrize(("method", "body"), [(m, b) for m, bodies in MALFORMED.items() for b in bodies])
async def test_each_malformed_shape_is_refused(pg: PolygonDouble, md: PolygonMarketData, method: str,
                                               body: object) -> None:
    path, call = CALLS[method]
    pg.fail(path, 200, body)
    with pytest.raises(MalformedAnswer, match=r"^Polygon answered .*; expected "):
        await call(md)


async def test_a_malformed_answer_is_a_502_naming_polygon_at_the_api(
        pg: PolygonDouble, make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(polygon={"api_key": API_KEY, "rest_url": pg.rest_url, "ws_url": pg.ws_url})
    async with serving(create_app(settings, roles=frozenset({"api"}))) as http:
        pg.fail("/v1/marketstatus/now", 200, {"ok": True}, times=10)
        response = await http.get("/api/v1/market/status")
        pg.fail("/v2/reference/news", 200, {"ok": True})
        news = await http.get("/api/v1/market/news")
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "vendor_malformed"
    assert response.json()["error"]["message"].startswith('Polygon answered GET /v1/marketstatus/now with {"ok":true}')
    assert news.status_code == 502 and "/v2/reference/news" in news.json()["error"]["message"]
