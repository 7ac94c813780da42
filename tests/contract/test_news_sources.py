"""The news and earnings sources against local servers: Polygon news (insights, next_url) and Benzinga earnings,
Tradier's corporate calendars, and RSS/Atom feeds fetched with conditional requests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest

from core.adapters.feeds import FeedClient
from core.adapters.polygon.rest import PolygonMarketData
from core.adapters.tradier.broker import TradierBroker
from core.domain.news import EarningsTime, Sentiment
from core.errors import ExternalPermanent, ExternalTransient, NotEntitled
from tests.doubles.feeds import FeedHost
from tests.doubles.polygon import API_KEY, PolygonDouble
from tests.doubles.polygon import fixture as polygon_fixture
from tests.doubles.tradier import ACCOUNT, TOKEN, TradierDouble


@pytest.fixture
async def host() -> AsyncIterator[FeedHost]:
    async with FeedHost() as feeds:
        yield feeds


@pytest.fixture
async def feeds() -> AsyncIterator[FeedClient]:
    async with FeedClient(timeout=2) as client:
        yield client


async def test_polygon_news_follows_next_url_and_keeps_insights(pg: PolygonDouble, md: PolygonMarketData) -> None:
    since = datetime(2024, 6, 1, tzinfo=UTC)
    items = await md.news_items("UBS", since=since, max_items=10)
    assert [i.published_at.day for i in items] == [24, 22]
    first = items[0]
    assert first.title == "Markets are underestimating Fed cuts: UBS By Investing.com - Investing.com UK"
    assert first.url.startswith("https://uk.investing.com/news/") and first.source == "polygon"
    assert first.symbols == ("UBS",) and first.publisher == "Investing.com"
    assert first.sentiment[0].value is Sentiment.POSITIVE and first.sentiment[0].symbol == "UBS"
    assert first.sentiment[0].reasoning is not None and "bullish" in first.sentiment[0].reasoning
    hits = pg.hits("/v2/reference/news")
    assert hits[0].query["ticker"] == "UBS" and hits[0].query["published_utc.gte"] == "2024-06-01T00:00:00Z"
    assert hits[1].query == {"cursor": "2"}  # next_url as given, the key still only in the header
    assert all(h.headers["Authorization"] == f"Bearer {API_KEY}" for h in hits)


async def test_benzinga_earnings_from_the_documented_example(pg: PolygonDouble, md: PolygonMarketData) -> None:
    rows = await md.earnings(["GFAI"], date(2029, 9, 1), date(2029, 9, 30))
    assert len(rows) == 1
    row = rows[0]
    # 07:00 UTC is 03:00 in New York: before the open.
    assert (row.symbol, row.date, row.time, row.source, row.confirmed) == (
        "GFAI", date(2029, 9, 24), EarningsTime.BEFORE_OPEN, "polygon:benzinga", True)
    query = pg.hits("/benzinga/v1/earnings")[0].query
    assert query["ticker.any_of"] == "GFAI" and query["date.gte"] == "2029-09-01" and query["sort"] == "date.asc"


async def test_benzinga_earnings_without_entitlement_is_not_entitled(pg: PolygonDouble,
                                                                    md: PolygonMarketData) -> None:
    pg.fail("/benzinga/v1/earnings", 403, polygon_fixture("error_403_not_authorized_v3_trades.json"))
    with pytest.raises(NotEntitled, match="not entitled"):
        await md.earnings(["AAPL"], date(2029, 9, 1), date(2029, 9, 30))


async def test_tradier_calendars_keep_releases_and_drop_calls_and_placeholders() -> None:
    async with TradierDouble() as tradier, TradierBroker(base_url=tradier.base_url, access_token=TOKEN,
                                                         account_id=ACCOUNT, timeout=1.0) as broker:
        rows = await broker.earnings(["MSFT", "SPY"], date(2010, 1, 1), date(2030, 1, 1))
        assert [(r.symbol, r.date, r.time, r.confirmed) for r in rows] == [
            ("MSFT", date(2013, 1, 24), EarningsTime.UNKNOWN, True)]
        assert rows[0].source == "tradier:calendars"
        assert tradier.requests_to("GET", "/beta/markets/fundamentals/calendars")[0].query["symbols"] == "MSFT,SPY"
        assert await broker.earnings(["MSFT"], date(2014, 1, 1), date(2030, 1, 1)) == []
        tradier.fail("status", path="/beta/", status=403)
        with pytest.raises(NotEntitled):
            await broker.earnings(["MSFT"], date(2010, 1, 1), date(2030, 1, 1))


async def test_rss_items_then_304_with_the_validators_sent_back(host: FeedHost, feeds: FeedClient) -> None:
    url = host.url("markets_rss.xml")
    first = await feeds.fetch(url, "Desk Wire")
    assert [i.title for i in first.items][:2] == ["NVDA extends rally as data-center orders beat estimates",
                                                  "Chipmakers slip; $AAPL supplier warns on handset demand"]
    assert len(first.items) == 3 and first.skipped == 1  # the undated entry is not given a date
    item = first.items[0]
    assert item.source == "feed:Desk Wire" and item.publisher == "Desk Wire: Markets"
    assert item.published_at == datetime(2026, 12, 4, 20, 45, tzinfo=UTC)
    assert item.url == "https://desk-wire.example/markets/2026/12/04/nvda-data-center-orders"
    second = await feeds.fetch(url, "Desk Wire")
    assert second.not_modified and second.items == ()
    assert host.hits[-1].status == 304 and host.hits[-1].if_none_match == host.etag("markets_rss.xml")
    host.add_rss_item("markets_rss.xml", title="New item", link="https://desk-wire.example/new",
                      published=datetime(2026, 12, 5, 9, 0, tzinfo=UTC))
    third = await feeds.fetch(url, "Desk Wire")
    assert third.items[0].title == "New item" and host.hits[-1].status == 200


async def test_atom_entries(host: FeedHost, feeds: FeedClient) -> None:
    fetched = await feeds.fetch(host.url("filings_atom.xml"), "Filings")
    assert [(i.title, i.published_at) for i in fetched.items] == [
        ("MSFT files 8-K: board declares quarterly dividend", datetime(2026, 12, 4, 20, 55, tzinfo=UTC)),
        ("NVDA extends rally as data-center orders beat estimates", datetime(2026, 12, 4, 20, 45, 30, tzinfo=UTC))]
    assert fetched.items[0].url == "https://filings-watch.example/msft/8-k/2026-12-04"
    assert fetched.items[0].summary == "Microsoft filed a current report announcing a quarterly dividend."


async def test_unreachable_failing_and_non_feed_answers_are_errors(host: FeedHost, feeds: FeedClient) -> None:
    host.fail("markets_rss.xml", 503)
    with pytest.raises(ExternalTransient, match="HTTP 503"):
        await feeds.fetch(host.url("markets_rss.xml"), "Desk")
    with pytest.raises(ExternalPermanent, match="HTTP 404"):
        await feeds.fetch(host.url("missing.xml"), "Desk")
    with pytest.raises(ExternalTransient, match="unreachable"):
        await feeds.fetch("http://127.0.0.1:9/feed.xml", "Nowhere")
    host.bodies["page.xml"] = "<html><body>not a feed</body></html>"
    host.modified["page.xml"] = "Fri, 04 Dec 2026 21:05:00 GMT"
    with pytest.raises(ExternalPermanent, match="not an RSS or Atom feed"):
        await feeds.fetch(host.url("page.xml"), "Page")
