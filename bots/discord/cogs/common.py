"""What the cogs share: the runtime handle, actor ids and the watchlist symbol autocomplete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bots.discord.access import may
from core.domain.access import Action

if TYPE_CHECKING:
    from bots.discord.bot import TradeBot
    from core.runtime import Runtime

MAX_CHOICES = 25


class FeatureCog(commands.Cog):
    def __init__(self, bot: TradeBot) -> None:
        self.bot = bot

    @property
    def runtime(self) -> Runtime:
        return self.bot.runtime


def actor(interaction: discord.Interaction[Any]) -> str:
    return f"discord:{interaction.user.id}"


async def symbol_choices(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
    """Watchlist symbols starting with what was typed (a local DB read: autocomplete cannot be deferred); only
    what was typed for someone who may not see the watchlist."""
    prefix = current.strip().upper()
    if not may(interaction, Action.WATCHLIST_READ):
        return [app_commands.Choice(name=prefix, value=prefix)] if prefix else []
    runtime: Runtime = interaction.client.runtime
    symbols = (await runtime.settings_service.get()).watchlist
    matches = [s for s in symbols if s.startswith(prefix)] or ([prefix] if prefix else [])
    return [app_commands.Choice(name=s, value=s) for s in matches[:MAX_CHOICES]]
