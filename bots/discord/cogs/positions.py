"""/positions (Trim 50% / Close / Stop to BE buttons) and /orders (Cancel on working orders).

The buttons only propose: each shows the same ephemeral Confirm/Cancel preview as /order (`send_preview`).
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bots.discord import render
from bots.discord.buttons import orders_view, positions_view
from bots.discord.cogs.common import FeatureCog

POSITIONS_PER_MESSAGE = render.ROWS_MAX  # one row of buttons per position


class PositionsCog(FeatureCog):
    @app_commands.command(name="positions", description="Open positions with Trim / Close / Stop to BE buttons")
    async def positions(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # broker positions + quotes
        items = await self.runtime.account.positions()
        if not items:
            await interaction.followup.send(embed=render.notice_embed("Positions", "No open positions."),
                                            ephemeral=True)
            return
        for start in range(0, len(items), POSITIONS_PER_MESSAGE):
            chunk = items[start:start + POSITIONS_PER_MESSAGE]
            embeds = [render.position_embed(item) for item in chunk]
            view = positions_view(chunk)
            if view is None:
                await interaction.followup.send(embeds=embeds, ephemeral=True)
            else:
                await interaction.followup.send(embeds=embeds, view=view, ephemeral=True)

    @app_commands.command(name="orders", description="Today's orders at the broker, with Cancel on working ones")
    async def orders(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # a broker read
        items = await self.runtime.account.broker_orders()
        embed = render.broker_orders_embed(items)
        view = orders_view(items)
        if view is None:
            await interaction.followup.send(embed=embed, ephemeral=True)
        else:
            await interaction.followup.send(embed=embed, view=view, ephemeral=True)
