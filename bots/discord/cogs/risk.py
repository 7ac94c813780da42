"""/risk: the same state the `risk` event carries (evaluated on demand when stale, `unknown` with why)."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bots.discord import render
from bots.discord.cogs.common import FeatureCog
from core.errors import CoreError
from core.services.risk import state_payload, unknown_state


class RiskCog(FeatureCog):
    @app_commands.command(name="risk", description="Risk state: ACTIVE / REDUCE_ONLY / HALTED, limits used")
    async def risk(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # may read the broker account
        service = self.runtime.risk
        if not service.enabled:
            state = service.snapshot()
        elif service.error is not None:
            state = service.error
        else:
            try:
                current, _ = await service.current()
                state = state_payload(current)
            except CoreError as exc:
                state = unknown_state(f"broker read failed: {exc.message}",
                                      "the risk engine retries every RISK_EVAL_SEC")
        await interaction.followup.send(embed=render.risk_embed(state), ephemeral=True)
