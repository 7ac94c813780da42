"""Deny by default on Discord: every slash command of the bot's tree and every button class, enumerated from the
bot, is either public in core.domain.access or refused for a user not in TRADERS, before anything is read or
changed, with the TRADERS entry that would admit them. A new command without an entry in COMMAND_ACTIONS fails
here (and is refused to non-traders meanwhile)."""

from __future__ import annotations

from typing import Any

from discord import AppCommandOptionType, app_commands

from bots.discord import TradeBot
from bots.discord.access import COMMAND_ACTIONS, TraderButton, trader_check
from bots.discord.buttons import DYNAMIC_ITEMS
from bots.discord.cogs.options import TakeContract
from bots.discord.cogs.plans import TakeSetup
from core.domain.access import needs_trader
from core.runtime import Runtime
from tests.doubles.discord_api import DiscordApiDouble, autocomplete, button_click, message, slash
from tests.integration.discord.rig import EPHEMERAL, OTHER, first_callback, first_followup, inject

REFUSAL = f"add `discord:{OTHER}` to TRADERS"
BUTTONS: dict[type[TraderButton], str] = {
    DYNAMIC_ITEMS[0]: "ord:ok:intent-1:token-1", DYNAMIC_ITEMS[1]: "ord:no:intent-1",
    DYNAMIC_ITEMS[2]: "alr:dismiss:alert-1", DYNAMIC_ITEMS[3]: "alr:chip:alert-1:trigger-1:chip-1",
    DYNAMIC_ITEMS[4]: "pos:close:AAPL", DYNAMIC_ITEMS[5]: "brk:cancel:123",
    TakeSetup: "pln:take:long:MSFT:35.50:35.00", TakeContract: "opt:take:AAPL130607C00150000:2"}


def leaf_commands(bot: TradeBot) -> list[app_commands.Command[Any, ..., Any]]:
    return [c for c in bot.tree.walk_commands() if isinstance(c, app_commands.Command)]


def sample(parameter: app_commands.Parameter) -> Any:
    if parameter.choices:
        return parameter.choices[0].value
    if parameter.type is AppCommandOptionType.integer:
        return int(parameter.min_value or 1)
    if parameter.type is AppCommandOptionType.number:
        return float(parameter.min_value or 1)
    return "AAPL"


def invocation(command: app_commands.Command[Any, ..., Any], user_id: int) -> dict[str, Any]:
    options = {p.name: sample(p) for p in command.parameters if p.required}
    if command.parent is None:
        return slash(command.name, options, user_id=user_id)
    return slash(command.parent.name, options, sub=command.name, user_id=user_id)


async def test_every_command_has_an_action_and_the_check(bot: TradeBot) -> None:
    commands = leaf_commands(bot)
    assert {c.qualified_name for c in commands} == set(COMMAND_ACTIONS)
    assert all(trader_check in c.checks for c in commands)


async def test_a_non_trader_gets_only_the_public_commands(bot: TradeBot, rt: Runtime,
                                                          api: DiscordApiDouble) -> None:
    alert = await rt.alerts.create({"symbol": "AAPL", "condition": "price_above", "level": "450"})
    watchlist = (await rt.settings_service.get()).watchlist
    refused, served = [], []
    for command in leaf_commands(bot):
        sent = inject(bot, invocation(command, OTHER))
        body = await first_callback(api, sent)
        content = (body.get("data") or {}).get("content") or ""
        if needs_trader(COMMAND_ACTIONS[command.qualified_name]):
            assert body["type"] == 4 and body["data"]["flags"] & EPHEMERAL, (command.qualified_name, body)
            assert REFUSAL in content, (command.qualified_name, content)
            refused.append(command.qualified_name)
        else:
            assert "TRADERS" not in content and body["type"] in (4, 5), (command.qualified_name, body)
            served.append(command.qualified_name)
    assert {"watch add", "alert remove", "positions", "journal export", "order", "coach"} <= set(refused)
    assert set(served) == {"quote", "status", "plan", "size", "news", "earnings", "options chain", "picks"}
    removal = inject(bot, slash("alert", {"alert_id": alert.id}, sub="remove", user_id=OTHER))
    assert REFUSAL in (await first_callback(api, removal))["data"]["content"]
    assert (await rt.alerts.get(alert.id)).status != "deleted"
    assert (await rt.settings_service.get()).watchlist == watchlist


async def test_every_button_refuses_a_non_trader_before_it_runs(bot: TradeBot, api: DiscordApiDouble) -> None:
    assert set(BUTTONS) == {*DYNAMIC_ITEMS, TakeSetup, TakeContract}
    for kind, custom_id in BUTTONS.items():
        assert needs_trader(kind.action)
        source = message(components=[{"type": 1, "components": [
            {"type": 2, "style": 2, "label": "x", "custom_id": custom_id}]}], flags=EPHEMERAL)
        click = inject(bot, button_click(custom_id, source, user_id=OTHER))
        body = await first_callback(api, click)
        assert body["type"] == 4 and REFUSAL in body["data"]["content"], (kind.__name__, body)


async def test_the_calculators_do_not_read_the_account_for_a_non_trader(bot: TradeBot, api: DiscordApiDouble) -> None:
    plan = inject(bot, slash("plan", {"symbol": "MSFT", "side": "long", "entry": "35.50", "stop": "35.00"},
                             user_id=OTHER))
    sent, _ = await first_followup(api, plan)
    fields = {f["name"]: f["value"] for f in sent["embeds"][0]["fields"]}
    assert "Shares" not in fields and "no sizing or risk headroom" in fields["Note"] and not sent.get("components")
    assert "risk_state" not in fields["Confidence"]
    size = {"symbol": "MSFT", "entry": "35.50", "stop": "35.00"}
    refused = inject(bot, slash("size", size, user_id=OTHER))
    sent, _ = await first_followup(api, refused)
    assert REFUSAL in sent["content"] and "Give `equity`" in sent["content"]
    given = inject(bot, slash("size", {**size, "equity": 10000.0}, user_id=OTHER))
    sent, _ = await first_followup(api, given)
    assert "TRADERS" not in str(sent) and sent["embeds"], sent


async def test_symbol_autocomplete_does_not_show_the_watchlist_to_a_non_trader(bot: TradeBot,
                                                                               api: DiscordApiDouble) -> None:
    typed = inject(bot, autocomplete("quote", "symbol", "S", user_id=OTHER))
    body = await first_callback(api, typed)
    assert body["data"]["choices"] == [{"name": "S", "value": "S"}]
    typed = inject(bot, autocomplete("quote", "symbol", "S"))
    assert (await first_callback(api, typed))["data"]["choices"] == [{"name": "SPY", "value": "SPY"}]
