"""The Take button of `/options express`: it carries the contract and count only; a click re-reads the contract's
live quote, proposes a limit at the mid through the normal flow and answers with the Confirm/Cancel preview."""

from __future__ import annotations

from bots.discord import TradeBot
from tests.doubles.discord_api import DiscordApiDouble, button_click, message
from tests.doubles.tradier import TradierDouble, fixture
from tests.integration.discord.rig import OTHER, TRADER, first_callback, first_followup, inject
from tests.integration.discord.test_discord_commands import confirm_once
from tests.integration.orders_helpers import placed

CONTRACT = "AAPL130607C00150000"
HIGHER = "AAPL130607C00155000"
TAKE = f"opt:take:{CONTRACT}:2"


def card(custom_id: str = TAKE) -> dict[str, object]:
    return message(components=[{"type": 1, "components": [
        {"type": 2, "style": 1, "label": "Take", "custom_id": custom_id}]}])


def quote(tradier: TradierDouble, symbol: str, bid: float, ask: float) -> None:
    recorded = fixture("rb_option_quote_single.json")["quotes"]["quote"]
    tradier.quotes[symbol] = {**recorded, "symbol": symbol, "bid": bid, "ask": ask, "last": round((bid + ask) / 2, 2),
                              "strike": float(symbol[-8:]) / 1000}


async def test_take_proposes_the_contract_at_its_live_mid_and_a_non_trader_is_refused(
        bot: TradeBot, api: DiscordApiDouble, tradier: TradierDouble) -> None:
    quote(tradier, CONTRACT, 2.1, 2.24)
    refused = inject(bot, button_click(TAKE, card(), user_id=OTHER))
    assert "TRADERS" in (await first_callback(api, refused))["data"]["content"]
    take = inject(bot, button_click(TAKE, card(), user_id=TRADER))
    sent, preview = await first_followup(api, take)
    assert sent["embeds"][0]["title"] == "[PAPER] Confirm order?"
    assert CONTRACT in str(sent["embeds"][0]) and "2.17" in str(sent["embeds"][0])  # (2.10 + 2.24) / 2
    assert placed(tradier) == []  # a pending intent until the trader confirms it
    edit = await confirm_once(bot, api, sent, preview)
    assert edit["embeds"][0]["title"] == "Order sent"
    [order] = placed(tradier)
    assert (order["class"], order["option_symbol"], order["side"], order["quantity"], order["price"]) == (
        "option", CONTRACT, "buy_to_open", 2.0, "2.17")


async def test_take_a_debit_vertical_is_one_multileg_order_at_the_net_of_the_mids(
        bot: TradeBot, api: DiscordApiDouble, tradier: TradierDouble) -> None:
    quote(tradier, CONTRACT, 2.1, 2.24)  # mid 2.17
    quote(tradier, HIGHER, 0.8, 0.9)  # mid 0.85
    vertical = f"opt:take:{CONTRACT}+{HIGHER}:3"
    take = inject(bot, button_click(vertical, card(vertical), user_id=TRADER))
    sent, preview = await first_followup(api, take)
    assert sent["embeds"][0]["title"] == "[PAPER] Confirm order?", sent["embeds"]
    edit = await confirm_once(bot, api, sent, preview)
    assert edit["embeds"][0]["title"] == "Order sent"
    [order] = placed(tradier)
    assert (order["class"], order["type"], order["price"]) == ("multileg", "debit", "1.32")  # 2.17 - 0.85
    assert [(leg["option_symbol"], leg["side"], leg["quantity"]) for leg in order["leg"]] == [
        (CONTRACT, "buy_to_open", 3.0), (HIGHER, "sell_to_open", 3.0)]
