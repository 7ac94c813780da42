"""The Discord bot's planning and order-entry paths end to end, offline (same rig as test_discord_bot.py):
/alert snooze, /plan (+ Take the setup), /size, /settings, the /order modal, preview expiry, Roll, coach
suggestion cards."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bots.discord import TradeBot
from core.runtime import Runtime
from core.settings import Settings
from tests.doubles.discord_api import (
    CHANNEL_ID,
    DiscordApiDouble,
    autocomplete,
    button_click,
    custom_ids,
    modal_submit,
    slash,
)
from tests.doubles.llm import OpenAIDouble, answer, call, tool_calls
from tests.doubles.tradier import TOKEN as TRADIER_TOKEN
from tests.doubles.tradier import TradierDouble
from tests.integration.discord.rig import (
    EPHEMERAL,
    OTHER,
    TRADER,
    first_callback,
    first_followup,
    inject,
    logged_in,
    running,
)
from tests.integration.orders_helpers import place_posts, placed

MODAL = 9


async def confirm_once(bot: TradeBot, api: DiscordApiDouble, sent: dict[str, Any],
                       preview: dict[str, Any]) -> dict[str, Any]:
    """Click Confirm on a preview as the trader; the edit that replaced it."""
    confirm, cancel = custom_ids(sent)
    assert confirm.startswith("ord:ok:") and cancel.startswith("ord:no:")
    click = inject(bot, button_click(confirm, preview, user_id=TRADER))
    [edit] = await api.wait_for(lambda: api.edits(click))
    body: dict[str, Any] = edit.json
    return body


# -- /alert snooze ----------------------------------------------------------------------------------------------


async def test_alert_snooze_silences_the_alert_for_the_chosen_minutes(bot: TradeBot, rt: Runtime,
                                                                      api: DiscordApiDouble) -> None:
    alert = await rt.alerts.create({"symbol": "AAPL", "condition": "price_above", "level": "450"})
    snoozed = inject(bot, slash("alert", {"alert_id": alert.id, "minutes": 60}, sub="snooze"))
    assert (await first_callback(api, snoozed))["type"] == 5
    sent, _ = await first_followup(api, snoozed)
    assert sent["flags"] & EPHEMERAL and sent["content"].startswith("Snoozed for 1 hour")
    stored = await rt.alerts.get(alert.id)
    assert stored.status == "snoozed" and stored.snoozed_until in sent["content"]

    unknown = inject(bot, slash("alert", {"alert_id": "nope", "minutes": 15}, sub="snooze"))
    sent, _ = await first_followup(api, unknown)
    assert sent["flags"] & EPHEMERAL and "nope" in sent["content"]


# -- /plan and /size --------------------------------------------------------------------------------------------

MSFT_PLAN = {"symbol": "MSFT", "side": "long", "entry": "35.50", "stop": "35.00", "targets": "36.50, 37.00"}


async def test_plan_card_shows_rr_bands_size_and_confidence_then_takes_the_setup(
        bot: TradeBot, api: DiscordApiDouble, tradier: TradierDouble) -> None:
    interaction = inject(bot, slash("plan", MSFT_PLAN, user_id=TRADER))
    assert (await first_callback(api, interaction))["type"] == 5
    sent, card = await first_followup(api, interaction)
    assert sent["flags"] & EPHEMERAL
    [embed] = sent["embeds"]
    assert embed["title"] == "Plan: long MSFT @ 35.50, stop 35.00"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Reward:risk"].startswith("2.00")  # (36.50 - 35.50) / 0.50
    assert fields["Targets"] == "36.50 = 2.00R\n37.00 = 3.00R"
    assert "1R 36.00" in fields["R bands"] and "3R 37.00" in fields["R bands"]
    # equity 17,798.36 from the broker: 1% risk buys 355, the 25% position cap 125 shares
    assert fields["Shares"] == "125" and fields["Limited by"] == "the max position % of equity"
    assert fields["Risk $"].startswith("$62.50 of $177.98")
    confidence = fields["Confidence"].splitlines()
    assert confidence[0].startswith("**") and confidence[0].endswith("%**")
    assert {line.split()[0] for line in confidence[1:]} == {"plan", "risk_state"}
    assert "market data is disabled" in fields["Note"]
    assert custom_ids(sent) == ["pln:take:long:MSFT:35.50:35.00:36.50"]  # the plan and its first target
    assert sent["components"][0]["components"][0]["label"] == "Take the setup (1R)"

    refused = inject(bot, button_click("pln:take:long:MSFT:35.50:35.00:36.50", card, user_id=OTHER))
    assert "TRADERS" in (await first_callback(api, refused))["data"]["content"]
    take = inject(bot, button_click("pln:take:long:MSFT:35.50:35.00:36.50", card, user_id=TRADER))
    assert (await first_callback(api, take))["type"] == 5
    sent, preview = await first_followup(api, take)
    assert sent["embeds"][0]["title"] == "[PAPER] Confirm order?"
    assert "buy 125 MSFT limit @ 35.50" in sent["embeds"][0]["fields"][0]["value"]
    shown = {f["name"]: f["value"] for f in sent["embeds"][0]["fields"]}
    assert {k: shown[k] for k in ("Entry", "Stop", "Target", "Quantity", "1R")} == {
        "Entry": "35.50", "Stop": "35.00", "Target": "36.50", "Quantity": "125", "1R": "$62.50"}
    assert shown["Risk"].startswith("approved: within every limit; the stop caps the loss at $62.50")
    assert placed(tradier) == []
    edit = await confirm_once(bot, api, sent, preview)
    assert edit["embeds"][0]["title"] == "Order sent"
    [order] = placed(tradier)  # one bracket: the entry, its target and its stop
    assert (order["symbol"], order["side"], order["quantity"], order["class"]) == ("MSFT", "buy", 125.0, "otoco")
    assert [(leg["type"], leg.get("price"), leg.get("stop")) for leg in order["leg"]] == [
        ("limit", "35.50", None), ("limit", "36.50", None), ("stop", None, "35")]


async def test_a_restarted_bot_still_routes_an_old_take_button(rt: Runtime, api: DiscordApiDouble) -> None:
    async with logged_in(rt) as first:
        shown = inject(first, slash("plan", MSFT_PLAN, user_id=TRADER))
        sent, card = await first_followup(api, shown)
    [take] = custom_ids(sent)
    async with logged_in(rt) as second:  # registers the plan button again from its cog
        click = inject(second, button_click(take, card, user_id=TRADER))
        sent, _ = await first_followup(api, click)
    assert "buy 125 MSFT limit @ 35.50" in sent["embeds"][0]["fields"][0]["value"]


async def test_a_plan_the_budget_cannot_buy_has_no_take_button(bot: TradeBot, api: DiscordApiDouble) -> None:
    # one share is worth more than the 25% position cap of the 17,798.36 equity
    interaction = inject(bot, slash("plan", {"symbol": "XYZ", "side": "long", "entry": "5000", "stop": "4990"}))
    sent, _ = await first_followup(api, interaction)
    fields = {f["name"]: f["value"] for f in sent["embeds"][0]["fields"]}
    assert fields["Shares"] == "0" and fields["Limited by"] == "the max position % of equity"
    assert custom_ids(sent) == []


async def test_an_invalid_plan_is_refused_naming_the_field(bot: TradeBot, api: DiscordApiDouble) -> None:
    interaction = inject(bot, slash("plan", {**MSFT_PLAN, "entry": "35,5x"}))
    sent, _ = await first_followup(api, interaction)
    assert sent["flags"] & EPHEMERAL and not sent.get("embeds")
    assert sent["content"].startswith("plan not valid:") and "• entry: " in sent["content"]

    wrong_side = inject(bot, slash("plan", {**MSFT_PLAN, "stop": "36.00"}))
    sent, _ = await first_followup(api, wrong_side)
    assert "• stop: " in sent["content"]


async def test_size_card_shows_shares_risk_and_what_limited_it(bot: TradeBot, api: DiscordApiDouble) -> None:
    interaction = inject(bot, slash("size", {"symbol": "MSFT", "entry": "35.50", "stop": "35.00",
                                             "risk_pct": 0.1}))
    assert (await first_callback(api, interaction))["type"] == 5
    sent, _ = await first_followup(api, interaction)
    [embed] = sent["embeds"]
    assert sent["flags"] & EPHEMERAL and embed["title"] == "Size: 35 shares MSFT"  # $17.80 budget / $0.50
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Shares"] == "35" and fields["Limited by"] == "the risk budget (risk per trade)"
    assert fields["Risk $"] == "$17.50 of $17.79 budget" and fields["Notes"].startswith("• ")
    assert "from the broker" in embed["footer"]["text"]

    bad = inject(bot, slash("size", {"symbol": "MSFT", "entry": "35.50", "stop": "35.50"}))
    sent, _ = await first_followup(api, bad)
    assert sent["content"].startswith("sizing not valid:") and "• stop: " in sent["content"]


# -- /settings --------------------------------------------------------------------------------------------------


async def test_settings_show_and_set_by_traders_only(bot: TradeBot, rt: Runtime, api: DiscordApiDouble,
                                                    make: Callable[..., Settings]) -> None:
    hidden = inject(bot, slash("settings", sub="show", user_id=OTHER))
    assert "add `discord:2` to TRADERS" in (await first_callback(api, hidden))["data"]["content"]
    shown = inject(bot, slash("settings", sub="show"))
    sent, _ = await first_followup(api, shown)
    fields = {f["name"]: f["value"] for f in sent["embeds"][0]["fields"]}
    assert fields["risk.max_daily_loss_usd"] == "500" and fields["default_rr"] == "2"
    assert fields["watchlist"] == "SPY, QQQ"
    assert TRADIER_TOKEN not in str(sent) and "test-token" not in str(sent)

    refused = inject(bot, slash("settings", {"key": "default_rr", "value": "3"}, sub="set", user_id=OTHER))
    assert "TRADERS" in (await first_callback(api, refused))["data"]["content"]
    assert (await rt.settings_service.get()).default_rr == 2

    changed = inject(bot, slash("settings", {"key": "risk.max_daily_loss_usd", "value": "400"}, sub="set"))
    sent, _ = await first_followup(api, changed)
    assert sent["embeds"][0]["description"] == "Set risk.max_daily_loss_usd to 400."
    assert (await rt.settings_service.get()).risk.max_daily_loss_usd == 400
    listed = inject(bot, slash("settings", {"key": "watchlist", "value": "aapl, msft nvda"}, sub="set"))
    await first_followup(api, listed)
    assert (await rt.settings_service.get()).watchlist == ["AAPL", "MSFT", "NVDA"]

    bad = inject(bot, slash("settings", {"key": "risk.max_daily_loss_usd", "value": "-5"}, sub="set"))
    sent, _ = await first_followup(api, bad)
    assert sent["flags"] & EPHEMERAL and "risk.max_daily_loss_usd" in sent["content"]
    unknown = inject(bot, slash("settings", {"key": "api_key", "value": "x"}, sub="set"))
    sent, _ = await first_followup(api, unknown)
    assert sent["content"].startswith("unknown setting 'api_key'")
    assert (await rt.settings_service.get()).risk.max_daily_loss_usd == 400

    keys = inject(bot, autocomplete("settings", "key", "daily", sub="set"))
    body = await first_callback(api, keys)
    assert body["type"] == 8
    assert [c["value"] for c in body["data"]["choices"]] == ["risk.max_daily_loss_usd", "risk.max_daily_loss_pct"]


# -- the /order modal -------------------------------------------------------------------------------------------


async def open_modal(bot: TradeBot, api: DiscordApiDouble, options: dict[str, Any] | None = None) -> dict[str, Any]:
    command = inject(bot, slash("order", options, user_id=TRADER))
    body = await first_callback(api, command)
    assert body["type"] == MODAL
    data: dict[str, Any] = body["data"]
    return data


def modal_inputs(modal: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["custom_id"]: c for row in modal["components"] for c in row["components"]}


async def test_order_without_options_opens_the_form_and_its_submit_previews(bot: TradeBot, api: DiscordApiDouble,
                                                                           tradier: TradierDouble) -> None:
    modal = await open_modal(bot, api)
    inputs = modal_inputs(modal)
    assert list(inputs) == ["side", "quantity", "symbol", "type", "price"] and len(modal["components"]) == 5
    assert inputs["type"]["value"] == "market" and inputs["price"]["required"] is False

    submit = inject(bot, modal_submit(modal["custom_id"], {"side": "Buy", "quantity": "2", "symbol": "aapl",
                                                           "type": "limit", "price": "430.25"}, user_id=TRADER))
    assert (await first_callback(api, submit))["type"] == 5
    sent, preview = await first_followup(api, submit)
    assert sent["flags"] & EPHEMERAL and sent["embeds"][0]["title"] == "[PAPER] Confirm order?"
    assert "buy 2 AAPL limit @ 430.25" in sent["embeds"][0]["fields"][0]["value"]
    assert placed(tradier) == []
    assert (await confirm_once(bot, api, sent, preview))["embeds"][0]["title"] == "Order sent"
    [order] = placed(tradier)
    assert (order["side"], order["quantity"], order["price"]) == ("buy", 2.0, "430.25")


async def test_some_options_prefill_the_form(bot: TradeBot, api: DiscordApiDouble) -> None:
    modal = await open_modal(bot, api, {"symbol": "MSFT", "quantity": 3})
    inputs = modal_inputs(modal)
    assert inputs["symbol"]["value"] == "MSFT" and inputs["quantity"]["value"] == "3"
    assert "value" not in inputs["side"] or not inputs["side"]["value"]


async def test_a_bad_form_value_is_refused_naming_the_field(bot: TradeBot, api: DiscordApiDouble,
                                                           tradier: TradierDouble) -> None:
    for values, field in (({"quantity": "1.5"}, "quantity"), ({"side": "hold"}, "side"),
                          ({"type": "stop limit", "price": "101"}, "price")):
        modal = await open_modal(bot, api)
        form = {"side": "buy", "quantity": "1", "symbol": "AAPL", "type": "market", "price": "", **values}
        submit = inject(bot, modal_submit(modal["custom_id"], form, user_id=TRADER))
        sent, _ = await first_followup(api, submit)
        assert sent["flags"] & EPHEMERAL and not sent.get("components")
        assert f"{field}: " in sent["content"], sent["content"]
    assert place_posts(tradier) == []


async def test_someone_not_in_traders_gets_no_form(bot: TradeBot, api: DiscordApiDouble) -> None:
    command = inject(bot, slash("order", user_id=OTHER))
    body = await first_callback(api, command)
    assert body["type"] == 4 and "TRADERS" in body["data"]["content"]


# -- preview expiry ---------------------------------------------------------------------------------------------

ORDER = {"symbol": "AAPL", "side": "buy", "quantity": 1, "type": "market"}


async def propose(bot: TradeBot, api: DiscordApiDouble) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(the /order interaction, what the bot sent, the preview message)."""
    interaction = inject(bot, slash("order", ORDER, user_id=TRADER))
    sent, preview = await first_followup(api, interaction)
    return interaction, sent, preview


async def test_an_unanswered_preview_loses_its_buttons_when_it_expires(bot: TradeBot, rt: Runtime,
                                                                      api: DiscordApiDouble,
                                                                      tradier: TradierDouble) -> None:
    rt.orders.confirm_ttl = timedelta(seconds=0.5)
    interaction, sent, preview = await propose(bot, api)
    assert custom_ids(sent)
    [timer] = bot.previews.tasks
    [edit] = await api.wait_for(lambda: api.edits(interaction), within=5)
    assert edit.path.endswith(f"/messages/{preview['id']}")  # the preview itself, through its interaction token
    assert edit.json["components"] == []
    assert edit.json["embeds"][0]["title"] == "Order preview expired: nothing was sent"
    assert "buy 1 AAPL market" in edit.json["embeds"][0]["description"]
    await asyncio.wait_for(timer, 2)
    assert len(bot.previews) == 0  # the finished timer forgot itself
    assert place_posts(tradier) == []


async def test_an_answered_preview_is_not_expired_and_close_stops_every_timer(bot: TradeBot, rt: Runtime,
                                                                             api: DiscordApiDouble) -> None:
    rt.orders.confirm_ttl = timedelta(seconds=1)
    interaction, sent, preview = await propose(bot, api)
    _, cancel = custom_ids(sent)
    click = inject(bot, button_click(cancel, preview, user_id=TRADER))
    await api.wait_for(lambda: api.edits(click))
    assert len(bot.previews) == 0
    await asyncio.sleep(1.3)
    assert api.edits(interaction) == []  # only the click's own edit: no expiry edit after the answer

    rt.orders.confirm_ttl = timedelta(seconds=60)
    await propose(bot, api)
    [task] = bot.previews.tasks
    await bot.close()
    await asyncio.sleep(0)
    assert task.cancelled() and len(bot.previews) == 0


# -- Roll -------------------------------------------------------------------------------------------------------

HELD_DAY, NEXT_DAY = (datetime.now(UTC).date() + timedelta(days=days) for days in (10, 38))
OPTION = f"AAPL{HELD_DAY:%y%m%d}C00150000"
ROLLED = f"AAPL{NEXT_DAY:%y%m%d}C00150000"  # the Tradier double lists a 150 call and put for any expiration


async def test_roll_previews_a_multileg_order_and_confirm_places_exactly_one(make: Callable[..., Settings],
                                                                             api: DiscordApiDouble,
                                                                             tradier: TradierDouble) -> None:
    """No Polygon here: the roll reads Tradier's expirations and chains, as a hedge does."""
    tradier.positions = [{"cost_basis": 210.0, "date_acquired": "2021-10-01T14:41:11.405Z", "id": 2,
                          "quantity": 1.0, "symbol": OPTION}]
    tradier.quotes[OPTION] = {**tradier.quotes["AAPL7150117C00430000"], "symbol": OPTION, "last": 2.15}
    tradier.expirations = [HELD_DAY.isoformat(), NEXT_DAY.isoformat()]
    async with running(make()) as runtime, logged_in(runtime) as bot:
        listed = inject(bot, slash("positions", user_id=TRADER))
        sent, card = await first_followup(api, listed)
        assert custom_ids(sent) == [f"pos:{verb}:{OPTION}" for verb in ("trim", "close", "be", "roll")]

        click = inject(bot, button_click(f"pos:roll:{OPTION}", card, user_id=TRADER))
        assert (await first_callback(api, click))["type"] == 5
        sent, preview = await first_followup(api, click)
        assert sent["embeds"][0]["title"] == "[PAPER] Confirm order?", sent["embeds"][0]
        what = sent["embeds"][0]["fields"][0]["value"]
        assert f"sell_to_close 1 {OPTION}" in what and f"buy_to_open 1 {ROLLED}" in what
        assert "net debit 0.10 x 100 x 1" in str(sent)  # buy the new call at 2.20, sell the held one at 2.10
        chains = tradier.requests_to("GET", "/markets/options/chains")
        assert [r.query["expiration"] for r in chains] == [NEXT_DAY.isoformat(), HELD_DAY.isoformat()]
        assert placed(tradier) == []

        edit = await confirm_once(bot, api, sent, preview)
        assert edit["embeds"][0]["title"] == "Order sent"
    [order] = placed(tradier)
    assert order["class"] == "multileg" and order["symbol"] == "AAPL"
    assert (order["type"], order["price"]) == ("debit", "0.10")
    assert [(leg["option_symbol"], leg["side"], leg["quantity"]) for leg in order["leg"]] == [
        (OPTION, "sell_to_close", 1.0), (ROLLED, "buy_to_open", 1.0)]
    assert len(place_posts(tradier)) == 1


# -- coach suggestion cards -------------------------------------------------------------------------------------


async def test_coach_suggestions_are_embeds_with_confidence_sources_and_buttons(
        make: Callable[..., Settings], api: DiscordApiDouble, tradier: TradierDouble) -> None:
    async with OpenAIDouble() as llm:
        llm.push(tool_calls(call("draft_order", {"symbol": "AAPL", "side": "buy", "quantity": 1, "type": "limit",
                                                 "price": "430.00", "rationale": "the trader asked for one share"})),
                 answer("I drafted a limit order for 1 AAPL; review it below."))
        settings = make(llm={"base_url": llm.base_url, "api_key": "sk-test", "model": "coach-model"})
        async with running(settings) as runtime, logged_in(runtime) as bot:
            interaction = inject(bot, slash("coach", {"question": "buy 1 AAPL"}, user_id=TRADER))
            [made] = await api.wait_for(lambda: api.find("POST", rf"^/channels/{CHANNEL_ID}/messages/\d+/threads$"))
            [reply] = await api.wait_for(lambda: api.find("POST", rf"^/channels/{made.answer['id']}/messages$"))
            assert interaction and reply.json["content"].startswith("I drafted")
            [embed] = reply.json["embeds"]
            assert embed["title"].startswith("Review and confirm (or cancel) the drafted intent: buy 1 AAPL limit")
            fields = {f["name"]: f["value"] for f in embed["fields"]}
            assert fields["Confidence"].endswith("%") and fields["Kind"] == "order"
            assert fields["Sources"].startswith("draft_order · orders:propose")
            edit = await confirm_once(bot, api, reply.json, reply.answer)
            assert edit["embeds"][0]["title"] == "Order sent"
    assert len(placed(tradier)) == 1 and len(place_posts(tradier)) == 1


# -- /options ---------------------------------------------------------------------------------------------------


async def test_options_chain_and_express_a_plan(bot: TradeBot, rt: Runtime, api: DiscordApiDouble) -> None:
    rt.options.clock = lambda: datetime(2013, 6, 3, 15, tzinfo=UTC)  # the recorded Tradier expirations
    chain = inject(bot, slash("options", {"symbol": "AAPL"}, sub="chain"))
    sent, _ = await first_followup(api, chain)
    assert sent["content"].startswith("AAPL options 2013-06-07 · underlying 438.89")
    assert "150.00 C" in sent["content"]
    express = inject(bot, slash("options", {"symbol": "AAPL", "side": "long", "entry": 438.89, "stop": 436.89,
                                            "targets": "442.89", "dte_max": 5, "structure": "single"},
                                sub="express", user_id=TRADER))
    sent, _ = await first_followup(api, express)
    assert sent["flags"] & EPHEMERAL
    assert "+AAPL130607C00150000" in sent["content"] and "risk at stop $96.00" in sent["content"]
    takes = [c["custom_id"] for row in sent.get("components") or [] for c in row["components"]]
    assert takes and all(t.startswith("opt:take:AAPL130607C00150000:") for t in takes)  # contract + count only
