"""/risk: the same state the `risk` event carries (evaluated on demand when stale, `unknown` with why)."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bots.discord import render
from bots.discord.cogs.common import FeatureCog
from core.services.risk_now import risk_state_now


class RiskCog(FeatureCog):
    @app_commands.command(name="risk", description="Risk state: ACTIVE / REDUCE_ONLY / HALTED, limits used")
    async def risk(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # may read the broker account
        state = await risk_state_now(self.runtime.risk)
        await interaction.followup.send(embed=render.risk_embed(state), ephemeral=True)
