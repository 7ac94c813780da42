"""/news and /earnings in the Discord bot, offline (the rig of test_discord_bot.py): stored items as links with
their sentiment, earnings with their calendar, and unavailable sources named, never an empty "no news"."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime

from bots.discord import TradeBot
from core.domain.news import ET
from core.settings import PolygonSettings, Settings
from tests.doubles.discord_api import DiscordApiDouble, slash
from tests.doubles.polygon import API_KEY as POLYGON_KEY
from tests.doubles.polygon import PolygonDouble
from tests.doubles.tradier import TradierDouble, fixture
from tests.integration.discord.rig import OTHER, first_callback, first_followup, inject, logged_in, running

UBS_TITLE = "Markets are underestimating Fed cuts: UBS By Investing.com - Investing.com UK"


async def test_news_for_a_symbol_shows_stored_items_with_links_and_sentiment(make: Callable[..., Settings],
                                                                            api: DiscordApiDouble) -> None:
    async with PolygonDouble() as pg:
        pg.market = "closed"
        polygon = PolygonSettings(api_key=POLYGON_KEY, rest_url=pg.rest_url)  # type: ignore[arg-type]
        async with running(make(polygon=polygon, watchlist=["UBS"])) as runtime, logged_in(runtime) as bot:
            await runtime.news.refresh()
            interaction = inject(bot, slash("news", {"symbol": "ubs"}))
            assert (await first_callback(api, interaction))["type"] == 5
            sent, _ = await first_followup(api, interaction)
    embed = sent["embeds"][0]
    assert embed["title"] == "News: UBS"
    lines = embed["description"].split("\n\n")
    assert lines[0].startswith(f"[{UBS_TITLE}](https://uk.investing.com/news/stock-market-news/")
    assert "2024-06-24 18:33 UTC · polygon · ▲UBS positive" in lines[0]
    assert UBS_TITLE + " (page 2)" in lines[1]


async def test_news_without_market_data_says_why_not_no_news(bot: TradeBot, api: DiscordApiDouble) -> None:
    interaction = inject(bot, slash("news"))
    sent, _ = await first_followup(api, interaction)
    text = sent["embeds"][0]["description"]
    assert "No news shown for the watchlist: some sources are unavailable" in text
    assert "polygon off: POLYGON_API_KEY is not set" in text


async def test_earnings_lists_the_calendar_and_names_the_one_that_is_off(bot: TradeBot, api: DiscordApiDouble,
                                                                         tradier: TradierDouble) -> None:
    body = copy.deepcopy(fixture("docs_fundamentals_calendars.json"))
    today = datetime.now(ET).date().isoformat()
    body[0]["results"][0]["tables"]["corporate_calendars"][0]["begin_date_time"] = today
    tradier.serve("/beta/markets/fundamentals/calendars", body)
    interaction = inject(bot, slash("earnings", {"symbol": "MSFT"}))
    sent, _ = await first_followup(api, interaction)
    embed = sent["embeds"][0]
    assert embed["title"] == "Earnings, next 14 days: MSFT"
    lines = embed["description"].split("\n\n")
    assert lines[0] == f"MSFT {today} time not given (confirmed, tradier:calendars)"
    assert lines[1].startswith("polygon:benzinga off: POLYGON_API_KEY is not set")


async def test_someone_not_in_traders_names_a_symbol_instead_of_seeing_the_watchlist(bot: TradeBot,
                                                                                     api: DiscordApiDouble) -> None:
    interaction = inject(bot, slash("news", user_id=OTHER))
    sent, _ = await first_followup(api, interaction)
    assert "name a symbol, e.g. `/news AAPL`" in str(sent)
    assert "watchlist" not in str(sent.get("embeds") or "")
