"""The Discord side of core.domain.access: each slash command's action, the one check every command runs
(installed on the whole tree by `install_trader_checks`), and `TraderButton`, the base of every button.

A command or button that is not public answers a non-trader with an ephemeral refusal naming the TRADERS entry
(`discord:<user id>`) that would admit them, before anything is read or changed.
"""

from __future__ import annotations

from typing import Any, ClassVar

import discord
from discord import app_commands

from bots.discord.errors import NotATrader, reply_error
from core.domain.access import Action, is_allowed, refusal

COMMAND_ACTIONS: dict[str, Action] = {
    "quote": Action.MARKET_READ,
    "news": Action.MARKET_READ,
    "earnings": Action.MARKET_READ,
    "options chain": Action.MARKET_READ,
    "options express": Action.ACCOUNT_READ,  # sizes from the broker's equity
    "picks": Action.MARKET_READ,
    "status": Action.STATUS,
    "plan": Action.CALCULATE,
    "size": Action.CALCULATE,
    "watch list": Action.WATCHLIST_READ,
    "watch add": Action.WATCHLIST_WRITE,
    "watch remove": Action.WATCHLIST_WRITE,
    "alert add": Action.ALERT_WRITE,
    "alert list": Action.ALERT_READ,
    "alert remove": Action.ALERT_WRITE,
    "alert snooze": Action.ALERT_WRITE,
    "risk": Action.ACCOUNT_READ,
    "positions": Action.ACCOUNT_READ,
    "orders": Action.ACCOUNT_READ,
    "order": Action.ORDER_PROPOSE,
    "coach": Action.COACH,
    "journal add": Action.JOURNAL_WRITE,
    "journal list": Action.JOURNAL_READ,
    "journal export": Action.JOURNAL_READ,
    "settings show": Action.SETTINGS_READ,
    "settings set": Action.SETTINGS_WRITE,
}


def discord_actor(user_id: int) -> str:
    return f"discord:{user_id}"


def traders_of(interaction: discord.Interaction[Any]) -> list[str]:
    traders: list[str] = interaction.client.runtime.settings.traders
    return traders


def may(interaction: discord.Interaction[Any], action: Action | None) -> bool:
    return is_allowed(action, discord_actor(interaction.user.id), traders_of(interaction))


async def trader_check(interaction: discord.Interaction[Any]) -> bool:
    """The check of every slash command: its action from COMMAND_ACTIONS (unmapped: trader only)."""
    command = interaction.command
    action = COMMAND_ACTIONS.get(command.qualified_name) if command is not None else None
    if not may(interaction, action):
        raise NotATrader(refusal(action, discord_actor(interaction.user.id)))
    return True


def install_trader_checks(tree: app_commands.CommandTree[Any]) -> None:
    """Put `trader_check` on every command of the tree (call after the cogs are added)."""
    for command in tree.walk_commands():
        if isinstance(command, app_commands.Command) and trader_check not in command.checks:
            command.add_check(trader_check)


class TraderButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"(?!)"):
    """Base of the bot's buttons: refuses a non-trader (`interaction_check`), defers, runs `run`, and turns any
    error into the one ephemeral user message (`on_error`): discord.py only logs a dynamic item's errors."""

    action: ClassVar[Action]
    ephemeral_thinking: ClassVar[bool] = True  # False: the click updates the message it is on

    def required_action(self) -> Action:
        """What a click does; a button whose verbs do different things says so per instance."""
        return self.action

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        action = self.required_action()
        if may(interaction, action):
            return True
        await interaction.response.send_message(refusal(action, discord_actor(interaction.user.id)), ephemeral=True)
        return False

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            if self.ephemeral_thinking:
                await interaction.response.defer(ephemeral=True, thinking=True)
            else:
                await interaction.response.defer()
            await self.run(interaction)
        except Exception as exc:
            await self.on_error(interaction, exc)

    async def run(self, interaction: discord.Interaction[Any]) -> None:
        raise NotImplementedError

    async def on_error(self, interaction: discord.Interaction[Any], error: Exception) -> None:
        await reply_error(interaction, error)
