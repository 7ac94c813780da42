"""The Discord bot end to end, offline: the real discord.py code path (raw interaction payloads injected into
`ConnectionState.parse_interaction_create` -> command tree / DynamicItem dispatch -> our handlers -> real HTTP)
against a fake Discord REST server, with the Tradier and Polygon doubles behind the core."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import discord
import pytest

from bots.discord import TradeBot, render, sync_commands
from core.db.models import AlertDelivery
from core.domain.deliveries import Delivery
from core.domain.events import AlertEvent, AlertMeta
from core.domain.journal import JournalQuery
from core.errors import ExternalTransient
from core.runtime import Runtime
from core.settings import PolygonSettings, Settings
from tests.doubles.discord_api import (
    ALERT_CHANNEL_ID,
    APP_ID,
    CHANNEL_ID,
    GUILD_ID,
    DiscordApiDouble,
    autocomplete,
    button_click,
    custom_ids,
    message_create,
    slash,
)
from tests.doubles.llm import OpenAIDouble, answer
from tests.doubles.polygon import API_KEY as POLYGON_KEY
from tests.doubles.polygon import PolygonDouble
from tests.doubles.tradier import TradierDouble
from tests.integration.actions_helpers import stored_fire
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
from tests.integration.test_news_alerts import RECORDED, news_payload
from tradeassist import cli

# -- commands -------------------------------------------------------------------------------------------------


async def test_sync_puts_every_command_to_the_configured_guild(bot: TradeBot, api: DiscordApiDouble) -> None:
    synced = await sync_commands(bot, [GUILD_ID])
    puts = api.find("PUT", rf"^/applications/{APP_ID}/guilds/{GUILD_ID}/commands$")
    assert len(puts) == 1
    assert not api.find("PUT", rf"^/applications/{APP_ID}/commands$")  # never a global sync
    commands = {c["name"]: c for c in puts[0].json}
    assert set(commands) == {"quote", "status", "watch", "alert", "risk", "order", "coach", "positions", "orders",
                             "journal", "plan", "size", "settings", "news", "earnings",
                             "options", "picks"} == set(synced[GUILD_ID])
    assert {o["name"] for o in commands["journal"]["options"]} == {"add", "list", "export"}
    assert {o["name"] for o in commands["watch"]["options"]} == {"add", "remove", "list"}
    assert {o["name"] for o in commands["alert"]["options"]} == {"add", "list", "remove", "snooze"}
    assert {o["name"] for o in commands["settings"]["options"]} == {"show", "set"}
    order = {o["name"]: o for o in commands["order"]["options"]}
    assert not any(o.get("required") for o in commands["order"]["options"])  # without options: the modal
    plan = [o["name"] for o in commands["plan"]["options"] if o.get("required")]
    assert plan == ["symbol", "side", "entry", "stop"]
    snooze = next(o for o in commands["alert"]["options"] if o["name"] == "snooze")
    minutes = next(o for o in snooze["options"] if o["name"] == "minutes")
    assert [c["value"] for c in minutes["choices"]] == [15, 30, 60, 240]
    settings_set = next(o for o in commands["settings"]["options"] if o["name"] == "set")
    assert next(o for o in settings_set["options"] if o["name"] == "key")["autocomplete"] is True
    assert {c["value"] for c in order["side"]["choices"]} >= {"buy", "sell"}
    assert order["symbol"]["autocomplete"] is True
    for command in puts[0].json:
        assert len(command["description"]) <= 100


async def test_the_cli_syncs_to_the_configured_guilds(make: Callable[..., Settings], api: DiscordApiDouble) -> None:
    synced = await cli._sync_commands(make(), "test-token")
    assert list(synced) == [GUILD_ID] and "order" in synced[GUILD_ID]
    assert len(api.find("PUT", rf"^/applications/{APP_ID}/guilds/{GUILD_ID}/commands$")) == 1


async def test_a_handler_slower_than_3s_defers_first(make: Callable[..., Settings], api: DiscordApiDouble) -> None:
    async with PolygonDouble() as pg:
        pg.market = "closed"
        polygon = PolygonSettings(api_key=POLYGON_KEY, rest_url=pg.rest_url)  # type: ignore[arg-type]
        async with running(make(polygon=polygon)) as runtime, logged_in(runtime) as client:
            pg.delay = 3.2  # a provider slower than Discord's 3 s: the ack must not wait for it
            injected_at = time.monotonic()
            interaction = inject(client, slash("quote", {"symbol": "aapl"}))
            assert (await first_callback(api, interaction))["type"] == 5  # deferred: the quote may hit REST
            sent, _ = await first_followup(api, interaction)
            [ack], [followup] = api.callbacks(interaction), api.followups(interaction)
            assert ack.at - injected_at < 1.0 and followup.at - injected_at >= 3.2
    embed = sent["embeds"][0]
    assert embed["title"].startswith("AAPL · $")
    assert {f["name"] for f in embed["fields"]} >= {"Bid / Ask", "Prev close"}
    assert embed["footer"]["text"].startswith("Data: ")


async def test_quote_without_market_data_says_how_to_enable_it(bot: TradeBot, api: DiscordApiDouble) -> None:
    interaction = inject(bot, slash("quote", {"symbol": "AAPL"}))
    assert (await first_callback(api, interaction))["type"] == 5
    sent, _ = await first_followup(api, interaction)
    assert "POLYGON_API_KEY" in sent["content"] and "To enable" in sent["content"]
    assert sent["flags"] & EPHEMERAL


async def test_status_answers_at_once_with_every_integration(bot: TradeBot, api: DiscordApiDouble) -> None:
    interaction = inject(bot, slash("status"))
    body = await first_callback(api, interaction)
    assert body["type"] == 4 and body["data"]["flags"] & EPHEMERAL
    names = {f["name"] for f in body["data"]["embeds"][0]["fields"]}
    assert {"market_data", "broker", "discord"} <= names


async def test_symbol_autocomplete_serves_the_watchlist(bot: TradeBot, api: DiscordApiDouble) -> None:
    interaction = inject(bot, autocomplete("quote", "symbol", "s"))
    body = await first_callback(api, interaction)
    assert body["type"] == 8
    assert body["data"]["choices"] == [{"name": "SPY", "value": "SPY"}]


async def test_watch_add_then_list(bot: TradeBot, rt: Runtime, api: DiscordApiDouble) -> None:
    added = inject(bot, slash("watch", {"symbol": "nvda"}, sub="add"))
    sent, _ = await first_followup(api, added)
    assert "NVDA" in sent["embeds"][0]["description"]
    assert (await rt.settings_service.get()).watchlist == ["SPY", "QQQ", "NVDA"]
    listed = inject(bot, slash("watch", sub="list"))
    sent, _ = await first_followup(api, listed)
    assert sent["embeds"][0]["description"] == "SPY, QQQ, NVDA"


async def test_alert_add_list_remove(bot: TradeBot, rt: Runtime, api: DiscordApiDouble) -> None:
    created = inject(bot, slash("alert", {"symbol": "AAPL", "condition": "price_above", "level": 450.5},
                                sub="add"))
    sent, _ = await first_followup(api, created)
    assert sent["embeds"][0]["title"] == "Alert created"
    [alert] = await rt.alerts.list()
    assert alert.channels == ("ws", "discord") and Decimal(alert.level) == Decimal("450.5")
    listed = inject(bot, slash("alert", sub="list"))
    sent, _ = await first_followup(api, listed)
    assert alert.id in sent["embeds"][0]["description"]
    removed = inject(bot, slash("alert", {"alert_id": alert.id}, sub="remove"))
    sent, _ = await first_followup(api, removed)
    assert "deleted" in sent["content"]
    unknown = inject(bot, slash("alert", {"alert_id": "nope"}, sub="remove"))
    sent, _ = await first_followup(api, unknown)
    assert sent["flags"] & EPHEMERAL and sent["content"]


async def test_risk_reads_the_broker_account(bot: TradeBot, api: DiscordApiDouble) -> None:
    interaction = inject(bot, slash("risk"))
    assert (await first_callback(api, interaction))["type"] == 5
    sent, _ = await first_followup(api, interaction)
    assert sent["embeds"][0]["title"].startswith("Risk: ")


# -- orders ---------------------------------------------------------------------------------------------------

ORDER = {"symbol": "AAPL", "side": "buy", "quantity": 1, "type": "market"}


async def propose(bot: discord.Client, api: DiscordApiDouble) -> tuple[dict[str, Any], dict[str, Any]]:
    interaction = inject(bot, slash("order", ORDER, user_id=TRADER))
    callback = await first_callback(api, interaction)
    assert callback["type"] == 5 and callback["data"]["flags"] & EPHEMERAL
    return await first_followup(api, interaction)


async def test_order_preview_confirm_places_exactly_one_order(bot: TradeBot, api: DiscordApiDouble,
                                                              tradier: TradierDouble) -> None:
    sent, preview = await propose(bot, api)
    assert sent["flags"] & EPHEMERAL
    embed = sent["embeds"][0]
    assert embed["title"] == "[PAPER] Confirm order?"
    assert "buy 1 AAPL market" in embed["fields"][0]["value"]
    confirm, cancel = custom_ids(sent)
    assert confirm.startswith("ord:ok:") and cancel.startswith("ord:no:") and len(confirm) <= 100
    assert sent["components"][0]["components"][0]["style"] == 4  # danger
    assert placed(tradier) == []

    click = inject(bot, button_click(confirm, preview, user_id=TRADER))
    assert (await first_callback(api, click))["type"] == 6  # deferred update: the broker call follows
    [edit] = await api.wait_for(lambda: api.edits(click))
    assert edit.json["components"] == []  # the buttons are gone
    assert edit.json["embeds"][0]["title"] == "Order sent"
    assert len(placed(tradier)) == 1 and len(place_posts(tradier)) == 1
    order_id = str(next(iter(tradier.orders)))
    assert order_id in edit.json["embeds"][0]["description"]

    again = inject(bot, button_click(confirm, preview, user_id=TRADER))
    assert (await first_callback(api, again))["type"] == 6
    [note] = await api.wait_for(lambda: api.followups(again))
    assert note.json["content"].startswith("already handled") and note.json["flags"] & EPHEMERAL
    assert len(place_posts(tradier)) == 1


async def test_an_expired_preview_is_refused_and_loses_its_buttons(bot: TradeBot, rt: Runtime,
                                                                    api: DiscordApiDouble,
                                                                    tradier: TradierDouble) -> None:
    rt.orders.confirm_ttl = timedelta(seconds=0.2)
    sent, preview = await propose(bot, api)
    await asyncio.sleep(1.2)  # the token carries whole seconds: be past them
    confirm, _ = custom_ids(sent)
    click = inject(bot, button_click(confirm, preview, user_id=TRADER))
    [edit] = await api.wait_for(lambda: api.edits(click))
    assert edit.json["components"] == [] and "expired" in edit.json["embeds"][0]["title"].lower()
    assert place_posts(tradier) == []


async def test_someone_not_in_traders_is_refused(bot: TradeBot, api: DiscordApiDouble,
                                                 tradier: TradierDouble) -> None:
    sent, preview = await propose(bot, api)
    confirm, _ = custom_ids(sent)
    click = inject(bot, button_click(confirm, preview, user_id=OTHER))
    body = await first_callback(api, click)
    assert body["type"] == 4 and body["data"]["flags"] & EPHEMERAL
    assert "TRADERS" in body["data"]["content"]
    assert not api.edits(click) and place_posts(tradier) == []

    command = inject(bot, slash("order", ORDER, user_id=OTHER))
    body = await first_callback(api, command)
    assert body["type"] == 4 and "TRADERS" in body["data"]["content"]


async def test_another_trader_cannot_confirm_someone_elses_order(make: Callable[..., Settings],
                                                                 api: DiscordApiDouble,
                                                                 tradier: TradierDouble) -> None:
    async with running(make(traders=["discord:1", "discord:2"])) as runtime, logged_in(runtime) as client:
        sent, preview = await propose(client, api)
        confirm, _ = custom_ids(sent)
        click = inject(client, button_click(confirm, preview, user_id=OTHER))
        [note] = await api.wait_for(lambda: api.followups(click))
    assert "someone else" in note.json["content"] and note.json["flags"] & EPHEMERAL
    assert place_posts(tradier) == []


async def test_cancel_removes_the_buttons_and_sends_nothing(bot: TradeBot, api: DiscordApiDouble,
                                                            tradier: TradierDouble) -> None:
    sent, preview = await propose(bot, api)
    _, cancel = custom_ids(sent)
    click = inject(bot, button_click(cancel, preview, user_id=TRADER))
    [edit] = await api.wait_for(lambda: api.edits(click))
    assert edit.json["components"] == [] and edit.json["embeds"][0]["title"] == "Order cancelled"
    assert place_posts(tradier) == []


async def test_a_restarted_bot_still_routes_an_old_confirm_button(rt: Runtime, api: DiscordApiDouble,
                                                                  tradier: TradierDouble) -> None:
    async with logged_in(rt) as first:
        sent, preview = await propose(first, api)
    confirm, _ = custom_ids(sent)
    async with logged_in(rt) as second:  # a new process would build exactly this: nothing kept in memory
        click = inject(second, button_click(confirm, preview, user_id=TRADER))
        [edit] = await api.wait_for(lambda: api.edits(click))
    assert edit.json["embeds"][0]["title"] == "Order sent"
    assert len(place_posts(tradier)) == 1


# -- alert delivery -------------------------------------------------------------------------------------------


def alert_payload(alert_id: str = "a" * 32, trigger_id: str = "b" * 32) -> Delivery:
    actions = [{"id": "take", "label": "Take setup (1R)", "kind": "order",
                "order": {"symbol": "AAPL", "side": "buy", "quantity": "1", "type": "market", "duration": "day",
                          "class": "equity"}},
               {"id": "snooze", "label": "Snooze 15m", "kind": "snooze", "snooze_sec": 900},
               {"id": "dismiss", "label": "Dismiss", "kind": "dismiss"}]
    meta = AlertMeta.stored({"kind": "crossed", "alert_id": alert_id, "trigger_id": trigger_id, "symbol": "AAPL",
                             "price": "438.89", "condition": "price_above", "level": "438.00", "actions": actions,
                             "fired_at": "2026-01-05T15:00:00+00:00"})
    event = AlertEvent(level="warning", msg="AAPL crossed above 438.00 at 438.89", meta=meta)
    return Delivery.of(event, trigger_id=trigger_id, alert_id=alert_id,
                       triggered_at=datetime(2026, 1, 5, 15, tzinfo=UTC))


async def test_an_alert_is_posted_to_the_alert_channel_with_chip_buttons(bot: TradeBot, rt: Runtime,
                                                                         api: DiscordApiDouble) -> None:
    notifier = rt.delivery.notifiers["discord"]
    await notifier.deliver(alert_payload())
    [post] = api.find("POST", rf"^/channels/{ALERT_CHANNEL_ID}/messages$")
    embed = post.json["embeds"][0]
    assert embed["title"] == "AAPL alert" and embed["color"] == render.AMBER
    assert {"Price", "Condition"} <= {f["name"] for f in embed["fields"]}
    chip = f"alr:chip:{'a' * 32}:{'b' * 32}"  # references only: the alert, the stored trigger and the chip
    assert custom_ids(post.json) == [f"{chip}:take", f"{chip}:snooze", f"{chip}:dismiss"]
    await notifier.deliver(alert_payload())  # the same trigger again (a retry): not posted twice
    assert len(api.find("POST", rf"^/channels/{ALERT_CHANNEL_ID}/messages$")) == 1


async def test_a_news_delivery_is_posted_as_the_items_own_line(bot: TradeBot, rt: Runtime,
                                                              api: DiscordApiDouble) -> None:
    await rt.delivery.notifiers["discord"].deliver(news_payload())
    [post] = api.find("POST", rf"^/channels/{ALERT_CHANNEL_ID}/messages$")
    embed = post.json["embeds"][0]
    assert embed["title"] == "News: UBS" and not post.json.get("components")
    assert f"]({RECORDED['article_url']})" in embed["description"]
    assert "2024-06-24 18:33 UTC · polygon" in embed["description"]
    await rt.delivery.notifiers["discord"].deliver(news_payload())  # a retry of the same item: not posted twice
    assert len(api.find("POST", rf"^/channels/{ALERT_CHANNEL_ID}/messages$")) == 1


async def test_an_outbox_row_is_delivered_and_its_chips_work(bot: TradeBot, rt: Runtime, api: DiscordApiDouble,
                                                             tradier: TradierDouble) -> None:
    fire = await stored_fire(rt, "AAPL", "price_above", "438.00", "438.89")  # 2 AAPL held: trim, breakeven
    async with rt.db.uow() as session:
        session.add(AlertDelivery(id=(delivery_id := "e" * 32), trigger_id=fire["trigger_id"], channel="discord"))
    await rt.delivery.start(lambda coro, name: rt.spawn(coro, name=name))
    [post] = await api.wait_for(lambda: api.find("POST", rf"^/channels/{ALERT_CHANNEL_ID}/messages$"))
    take, _, snooze, _ = custom_ids(post.json)
    for _ in range(50):  # the worker marks the row right after the POST
        async with rt.db.read() as session:
            row = await session.get(AlertDelivery, delivery_id)
        if row is not None and row.status == "delivered":
            break
        await asyncio.sleep(0.05)
    assert row is not None and row.status == "delivered"

    click = inject(bot, button_click(take, post.answer, user_id=TRADER))
    assert (await first_callback(api, click))["type"] == 5
    sent, _ = await first_followup(api, click)
    assert sent["flags"] & EPHEMERAL and sent["embeds"][0]["title"] == "[PAPER] Confirm order?"
    assert custom_ids(sent)[0].startswith("ord:ok:") and place_posts(tradier) == []

    click = inject(bot, button_click(snooze, post.answer, user_id=TRADER))
    sent, _ = await first_followup(api, click)
    assert sent["embeds"][0]["title"] == "Alert snoozed" and "15 minutes" in sent["embeds"][0]["description"]
    assert (await rt.alerts.get(fire["alert_id"])).status == "snoozed"

    refused = inject(bot, button_click(snooze, post.answer, user_id=OTHER))
    assert "TRADERS" in (await first_callback(api, refused))["data"]["content"]


async def test_a_failed_alert_post_is_reported_as_transient(bot: TradeBot, rt: Runtime,
                                                            api: DiscordApiDouble) -> None:
    api.fail_channel_posts = [503, 503, 503, 503, 503, 503]
    with pytest.raises(ExternalTransient):
        await rt.delivery.notifiers["discord"].deliver(alert_payload(trigger_id="c" * 32))


def test_render_respects_discord_limits() -> None:
    fields = [(f"name {i}" * 40, "v" * 2000, False) for i in range(40)]
    embed = render.make_embed("t" * 400, "d" * 5000, fields=fields)
    assert len(embed.title or "") == 256 and len(embed.description or "") == 4096
    assert 0 < len(embed.fields) <= 25 and render.embed_size(embed) <= 6000
    crowded = render.make_embed("t" * 400, "d" * 5000, fields=fields, footer="f" * 3000)
    assert len(crowded.footer.text or "") == 2048 and render.embed_size(crowded) <= 6000
    many = render.make_embed("t", fields=[(str(i), "v", True) for i in range(40)])
    assert len(many.fields) == 25
    chunks = render.split_content(("word " * 1000).strip())
    assert all(len(chunk) <= 2000 for chunk in chunks) and len(chunks) == 3
    assert " ".join(chunks) == ("word " * 1000).strip()
    view = render.button_view([discord.ui.Button(label=str(i), custom_id=f"b{i}") for i in range(30)])
    assert len(view.children) == 25


# -- coach ----------------------------------------------------------------------------------------------------


async def test_coach_without_an_llm_says_how_to_enable_it(bot: TradeBot, api: DiscordApiDouble) -> None:
    interaction = inject(bot, slash("coach", {"question": "How is SPY?"}))
    body = await first_callback(api, interaction)
    assert body["type"] == 4 and body["data"]["flags"] & EPHEMERAL
    assert "LLM_" in body["data"]["content"] and "To enable" in body["data"]["content"]


async def test_coach_opens_a_thread_and_a_mention_there_continues_it(make: Callable[..., Settings],
                                                                     api: DiscordApiDouble) -> None:
    async with OpenAIDouble() as llm:
        llm.push(answer("Stay patient and wait for your level."), answer("Size down after two losses."))
        settings = make(llm={"base_url": llm.base_url, "api_key": "sk-test", "model": "coach-model"})
        async with running(settings) as runtime, logged_in(runtime) as client:
            interaction = inject(client, slash("coach", {"question": "Plan for today?"}))
            assert (await first_callback(api, interaction))["type"] == 5
            await api.wait_for(lambda: api.followups(interaction))
            threads = rf"^/channels/{CHANNEL_ID}/messages/\d+/threads$"
            [made] = await api.wait_for(lambda: api.find("POST", threads))
            thread_id = made.answer["id"]
            [first] = await api.wait_for(lambda: api.find("POST", rf"^/channels/{thread_id}/messages$"))
            assert first.json["content"].startswith("Stay patient")

            client._connection.parsers["MESSAGE_CREATE"](
                message_create(thread_id, "<@900000000000000001> and if I lose twice?"))
            replies = await api.wait_for(lambda: api.find("POST", rf"^/channels/{thread_id}/messages$"), count=2)
            assert replies[1].json["content"].startswith("Size down")
            coach = runtime.coach
            assert coach is not None
            history = await coach.conversation(await coach.get_or_create_by_ref(f"discord:thread:{thread_id}"))
    assert len(llm.requests) == 2
    assert len(history.messages) == 4


# -- positions, broker orders, journal ------------------------------------------------------------------------


async def test_positions_render_the_broker_position_with_its_buttons(bot: TradeBot, api: DiscordApiDouble) -> None:
    interaction = inject(bot, slash("positions", user_id=TRADER))
    assert (await first_callback(api, interaction))["type"] == 5
    sent, _ = await first_followup(api, interaction)
    assert sent["flags"] & EPHEMERAL
    [embed] = sent["embeds"]
    assert embed["title"] == "AAPL"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Quantity"].startswith("2") and fields["Average"] == "$400.00"
    assert custom_ids(sent) == ["pos:trim:AAPL", "pos:close:AAPL", "pos:be:AAPL", "pos:hedge:AAPL",
                                "pos:collar:AAPL"]
    labels = [c["label"] for c in sent["components"][0]["components"]]
    assert labels == ["Trim 50% · AAPL", "Close · AAPL", "Stop to BE · AAPL", "Hedge (put) · AAPL",
                      "Collar · AAPL"]


async def test_trim_button_previews_then_confirm_sells_half(bot: TradeBot, api: DiscordApiDouble,
                                                            tradier: TradierDouble) -> None:
    listed = inject(bot, slash("positions", user_id=TRADER))
    _, message = await first_followup(api, listed)
    click = inject(bot, button_click("pos:trim:AAPL", message, user_id=TRADER))
    assert (await first_callback(api, click))["type"] == 5
    sent, preview = await first_followup(api, click)
    assert sent["flags"] & EPHEMERAL and sent["embeds"][0]["title"] == "[PAPER] Confirm order?"
    assert "sell 1 AAPL market" in sent["embeds"][0]["fields"][0]["value"]
    confirm, cancel = custom_ids(sent)
    assert confirm.startswith("ord:ok:") and cancel.startswith("ord:no:")
    assert placed(tradier) == []

    refused = inject(bot, button_click("pos:trim:AAPL", message, user_id=OTHER))
    assert "TRADERS" in (await first_callback(api, refused))["data"]["content"]

    ok = inject(bot, button_click(confirm, preview, user_id=TRADER))
    [edit] = await api.wait_for(lambda: api.edits(ok))
    assert edit.json["embeds"][0]["title"] == "Order sent"
    [order] = placed(tradier)
    assert (order["side"], order["symbol"], order["quantity"], order["type"]) == ("sell", "AAPL", 1.0, "market")
    assert len(place_posts(tradier)) == 1


async def test_a_restarted_bot_still_routes_an_old_position_button(rt: Runtime, api: DiscordApiDouble) -> None:
    async with logged_in(rt) as first:
        listed = inject(first, slash("positions", user_id=TRADER))
        _, message = await first_followup(api, listed)
    async with logged_in(rt) as second:
        click = inject(second, button_click("pos:close:AAPL", message, user_id=TRADER))
        sent, _ = await first_followup(api, click)
    assert "sell 2 AAPL market" in sent["embeds"][0]["fields"][0]["value"]


async def test_orders_show_a_working_order_with_cancel(bot: TradeBot, api: DiscordApiDouble,
                                                       tradier: TradierDouble) -> None:
    tradier.orders["7001"] = {"id": 7001, "type": "limit", "symbol": "AAPL", "side": "buy", "quantity": 1.0,
                              "status": "open", "duration": "day", "price": 400.0, "avg_fill_price": 0.0,
                              "exec_quantity": 0.0, "remaining_quantity": 1.0, "class": "equity",
                              "create_date": "2026-01-05T15:00:00.000Z", "transaction_date": "2026-01-05T15:00:00.000Z"}
    interaction = inject(bot, slash("orders", user_id=TRADER))
    assert (await first_callback(api, interaction))["type"] == 5
    sent, message = await first_followup(api, interaction)
    assert "`7001`" in sent["embeds"][0]["description"] and "1 working" in sent["embeds"][0]["title"]
    assert custom_ids(sent) == ["brk:cancel:7001"]

    click = inject(bot, button_click("brk:cancel:7001", message, user_id=TRADER))
    sent, preview = await first_followup(api, click)
    assert sent["flags"] & EPHEMERAL and "Cancel working order `7001`" in sent["embeds"][0]["fields"][0]["value"]
    confirm, _ = custom_ids(sent)
    assert tradier.orders["7001"]["status"] == "open"
    ok = inject(bot, button_click(confirm, preview, user_id=TRADER))
    await api.wait_for(lambda: api.edits(ok))
    assert tradier.orders["7001"]["status"] == "canceled" and place_posts(tradier) == []


async def test_journal_add_list_export(bot: TradeBot, rt: Runtime, api: DiscordApiDouble) -> None:
    added = inject(bot, slash("journal", {"body": "Waited for the retest, no chase", "symbol": "aapl",
                                          "tags": "discipline, #patience"}, sub="add"))
    sent, _ = await first_followup(api, added)
    assert sent["flags"] & EPHEMERAL and sent["embeds"][0]["title"] == "Journal entry added"
    [entry] = (await rt.journal.list(JournalQuery())).items
    assert (entry.symbol, entry.tags) == ("AAPL", ("discipline", "patience"))
    assert entry.actor == f"discord:{TRADER}"

    listed = inject(bot, slash("journal", sub="list"))
    sent, _ = await first_followup(api, listed)
    description = sent["embeds"][0]["description"]
    assert entry.id in description and "Waited for the retest" in description and "#patience" in description

    exported = inject(bot, slash("journal", {"format": "json"}, sub="export"))
    sent, _ = await first_followup(api, exported)
    assert sent["attachments"][0]["filename"] == "journal.json"

    empty = inject(bot, slash("journal", {"body": "   "}, sub="add"))
    sent, _ = await first_followup(api, empty)
    assert sent["flags"] & EPHEMERAL and "invalid journal entry" in sent["content"]
