"""/news [symbol] and /earnings [symbol]: stored news and the earnings calendars (public market data reads)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import discord
from discord import app_commands

from bots.discord import render
from bots.discord.access import discord_actor
from bots.discord.cogs.common import FeatureCog, symbol_choices
from bots.news_text import earnings_lines, news_lines
from core.domain.access import watchlist_scope_allowed
from core.domain.news import ET
from core.domain.symbols import normalize_symbol

NEWS_ITEMS = 8
EARNINGS_DAYS = 14


def markdown_link(url: str, text: str) -> str:
    return f"[{text.replace(']', ')')}]({url})"


def news_embed(title: str, lines: list[str]) -> discord.Embed:
    return discord.Embed(title=render.clip(title, render.TITLE_MAX), color=render.BLUE,
                         description=render.clip("\n\n".join(lines), render.DESCRIPTION_MAX))


class NewsCog(FeatureCog):
    async def _symbols(self, interaction: discord.Interaction[Any], symbol: str | None) -> tuple[list[str], str]:
        if symbol:
            picked = normalize_symbol(symbol)
            return [picked], picked
        command = f"/{interaction.command.name}" if interaction.command is not None else "/news"
        watchlist_scope_allowed(discord_actor(interaction.user.id), self.runtime.settings.traders, command)
        return list((await self.runtime.settings_service.get()).watchlist), "the watchlist"

    @app_commands.command(name="news", description="Latest news for a symbol or the watchlist, newest first")
    @app_commands.describe(symbol="Ticker (default: the watchlist)")
    async def news(self, interaction: discord.Interaction[Any], symbol: str | None = None) -> None:
        await interaction.response.defer(thinking=True)
        symbols, scope = await self._symbols(interaction, symbol)
        page = await self.runtime.news.page(symbols=symbols, limit=NEWS_ITEMS)
        await interaction.followup.send(embed=news_embed(f"News: {scope}", news_lines(page.items, page.sources,
                                                                                   markdown_link, scope)))

    @app_commands.command(name="earnings", description="Upcoming earnings for a symbol or the watchlist")
    @app_commands.describe(symbol="Ticker (default: the watchlist)")
    async def earnings(self, interaction: discord.Interaction[Any], symbol: str | None = None) -> None:
        await interaction.response.defer(thinking=True)  # may ask the vendors' calendars
        symbols, scope = await self._symbols(interaction, symbol)
        today = discord.utils.utcnow().astimezone(ET).date()
        answer = await self.runtime.news.earnings(symbols, today, today + timedelta(days=EARNINGS_DAYS))
        await interaction.followup.send(embed=news_embed(f"Earnings, next {EARNINGS_DAYS} days: {scope}",
                                                     earnings_lines(answer, scope)))

    @news.autocomplete("symbol")
    @earnings.autocomplete("symbol")
    async def _symbol_choices(self, interaction: discord.Interaction[Any],
                              current: str) -> list[app_commands.Choice[str]]:
        return await symbol_choices(interaction, current)
