"""/quote, /status and /watch add|remove|list."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bots.discord import render
from bots.discord.cogs.common import FeatureCog, actor, symbol_choices
from core.domain.symbols import normalize_symbol


class MarketCog(FeatureCog):
    @app_commands.command(name="quote", description="Last price, bid/ask and change for a symbol")
    @app_commands.describe(symbol="Ticker, e.g. SPY")
    async def quote(self, interaction: discord.Interaction[Any], symbol: str) -> None:
        await interaction.response.defer(thinking=True)  # may be a REST call to the data provider
        result = await self.runtime.market.quote(symbol)
        await interaction.followup.send(embed=render.quote_embed(result))

    @quote.autocomplete("symbol")
    async def _quote_symbols(self, interaction: discord.Interaction[Any],
                             current: str) -> list[app_commands.Choice[str]]:
        return await symbol_choices(interaction, current)

    @app_commands.command(name="status", description="Which integrations are enabled, feed state and freshness")
    async def status(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_message(embed=render.status_embed(self.runtime.integrations()),
                                                ephemeral=True)


class WatchCog(FeatureCog):
    watch = app_commands.Group(name="watch", description="The watchlist")

    @watch.command(name="list", description="Show the watchlist")
    async def list_(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        tunables = await self.runtime.settings_service.get()
        await interaction.followup.send(embed=render.watchlist_embed(tunables.watchlist), ephemeral=True)

    @watch.command(name="add", description="Add a symbol to the watchlist")
    @app_commands.describe(symbol="Ticker, e.g. AAPL")
    async def add(self, interaction: discord.Interaction[Any], symbol: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        symbol = normalize_symbol(symbol)
        current = (await self.runtime.settings_service.get()).watchlist
        if symbol in current:
            await interaction.followup.send(embed=render.watchlist_embed(current, f"{symbol} is already watched."),
                                            ephemeral=True)
            return
        updated = await self.runtime.settings_service.update({"watchlist": [*current, symbol]},
                                                             actor=actor(interaction))
        await interaction.followup.send(embed=render.watchlist_embed(updated.watchlist, f"Added {symbol}."),
                                        ephemeral=True)

    @watch.command(name="remove", description="Remove a symbol from the watchlist")
    @app_commands.describe(symbol="Ticker to stop watching")
    async def remove(self, interaction: discord.Interaction[Any], symbol: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        symbol = normalize_symbol(symbol)
        current = (await self.runtime.settings_service.get()).watchlist
        if symbol not in current:
            await interaction.followup.send(embed=render.watchlist_embed(current, f"{symbol} is not watched."),
                                            ephemeral=True)
            return
        updated = await self.runtime.settings_service.update(
            {"watchlist": [s for s in current if s != symbol]}, actor=actor(interaction))
        await interaction.followup.send(embed=render.watchlist_embed(updated.watchlist, f"Removed {symbol}."),
                                        ephemeral=True)

    @remove.autocomplete("symbol")
    async def _remove_symbols(self, interaction: discord.Interaction[Any],
                              current: str) -> list[app_commands.Choice[str]]:
        return await symbol_choices(interaction, current)
