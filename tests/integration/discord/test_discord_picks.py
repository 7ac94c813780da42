"""/picks on the Discord double: cards with Alert at trigger / Take setup / Explain; only traders may act; without
market data it says how to enable it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.runtime import Runtime
from core.settings import PolygonSettings, Settings
from tests.doubles.discord_api import DiscordApiDouble, button_click, custom_ids, slash
from tests.doubles.polygon import API_KEY as POLYGON_KEY
from tests.doubles.polygon import PolygonDouble
from tests.doubles.tradier import TradierDouble
from tests.integration.discord.rig import OTHER, TRADER, first_callback, first_followup, inject, logged_in
from tests.integration.orders_helpers import placed, unthrottled
from tests.integration.test_picks_actions import _orb_pick, quote_msft_where_the_session_trades


async def test_picks_cards_alert_and_take(make: Callable[..., Settings], pg: PolygonDouble, api: DiscordApiDouble,
                                          tradier: TradierDouble) -> None:
    polygon = PolygonSettings(api_key=POLYGON_KEY, rest_url=pg.rest_url, ws_url=pg.ws_url)
    quote_msft_where_the_session_trades(tradier)
    async with Runtime(make(polygon=polygon), roles={"discord", "engine"}) as rt, logged_in(unthrottled(rt)) as bot:
        pick_id = await _orb_pick(rt.picks_engine)
        shown = inject(bot, slash("picks", {"limit": 3, "symbol": "MSFT", "setup": "orb5"}, user_id=OTHER))
        assert (await first_callback(api, shown))["type"] == 5
        sent, card = await first_followup(api, shown)
        [embed] = sent["embeds"]
        assert embed["title"].startswith("MSFT · 5-min opening range long · forming")
        assert "Trigger 101.00 · stop 99.00" in embed["description"]
        assert custom_ids(sent) == [f"pck:alert:{pick_id}", f"pck:take:{pick_id}", f"pck:why:{pick_id}"]

        refused = inject(bot, button_click(f"pck:take:{pick_id}", card, user_id=OTHER))
        assert "TRADERS" in (await first_callback(api, refused))["data"]["content"]
        alert = inject(bot, button_click(f"pck:alert:{pick_id}", card, user_id=TRADER))
        await first_callback(api, alert)
        alerted: dict[str, Any] = (await first_followup(api, alert))[0]
        assert alerted["embeds"][0]["title"] == "Alert created"
        take = inject(bot, button_click(f"pck:take:{pick_id}", card, user_id=TRADER))
        await first_callback(api, take)
        preview = (await first_followup(api, take))[0]
        assert preview["embeds"][0]["title"] == "[PAPER] Confirm order?"
        assert placed(tradier) == []


async def test_picks_without_market_data_says_how_to_enable(bot: Any, api: DiscordApiDouble) -> None:
    shown = inject(bot, slash("picks", {}))
    await first_callback(api, shown)
    sent = (await first_followup(api, shown))[0]
    assert "POLYGON_API_KEY" in str(sent)
