"""`/ta news` and `/ta earnings` through the real slack-bolt app (signed requests, the Slack Web API double):
stored items with Slack links and sentiment, earnings with their calendar, unavailable sources named."""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import datetime

import httpx
from fastapi import FastAPI

from core.domain.news import ET
from tests.doubles.polygon import PolygonDouble
from tests.doubles.polygon import fixture as polygon_fixture
from tests.doubles.slack_api import SlackDouble
from tests.doubles.tradier import TradierDouble, fixture
from tests.integration.slack.rig import runtime_of
from tests.integration.slack.test_slack_features import _reply

UBS_TITLE = "Markets are underestimating Fed cuts: UBS By Investing.com - Investing.com UK"


async def test_news_shows_stored_items_as_slack_links(app: FastAPI, http: httpx.AsyncClient,
                                                      slack: SlackDouble) -> None:
    news = runtime_of(app).news
    for _ in range(100):  # the engine's first refresh stores Polygon's (recorded) articles
        if (await news.page(symbols=["UBS"])).items:
            break
        await asyncio.sleep(0.05)
    reply = await _reply(http, slack, "news ubs", "n1")
    assert reply["response_type"] == "in_channel" and reply["text"] == "News: UBS"
    assert reply["blocks"][0]["text"]["text"] == "News: UBS"
    text = reply["blocks"][1]["text"]["text"]
    assert text.startswith(f"<https://uk.investing.com/news/stock-market-news/markets-are-underestimating-fed-"
                           f"cuts-ubs-3559968|{UBS_TITLE}> [UBS]")
    assert "polygon · ▲UBS positive" in text
    usage = await _reply(http, slack, "news AAPL MSFT", "n2")
    assert "news takes at most one symbol" in usage["text"]
    stranger = await _reply(http, slack, "news", "n3", user="U0STRANGER")  # may read news, not the watchlist
    assert "name a symbol, e.g. `/ta news AAPL`" in stranger["text"] and "UBS" not in json.dumps(stranger)


async def test_earnings_names_each_calendar_and_a_missing_entitlement(app: FastAPI, http: httpx.AsyncClient,
                                                                     slack: SlackDouble, pg: PolygonDouble,
                                                                     tradier: TradierDouble) -> None:
    body = copy.deepcopy(fixture("docs_fundamentals_calendars.json"))
    today = datetime.now(ET).date().isoformat()
    body[0]["results"][0]["tables"]["corporate_calendars"][0]["begin_date_time"] = today
    tradier.serve("/beta/markets/fundamentals/calendars", body)
    pg.fail("/benzinga/v1/earnings", 403, polygon_fixture("error_403_not_authorized_v3_trades.json"))
    reply = await _reply(http, slack, "earnings MSFT", "e1")
    assert reply["blocks"][0]["text"]["text"] == "Earnings, next 14 days: MSFT"
    text = json.dumps(reply["blocks"][1:])
    assert f"MSFT {today} time not given (confirmed, tradier:calendars)" in text
    assert "polygon:benzinga not in your plan: Polygon: You are not entitled to this data" in text
    assert "upgrade the vendor plan" in text
