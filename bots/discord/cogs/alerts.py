"""/alert add|list|remove|snooze."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import discord
from discord import app_commands

from bots.discord import render
from bots.discord.cogs.common import FeatureCog, actor, symbol_choices

CONDITIONS = [app_commands.Choice(name="price above", value="price_above"),
              app_commands.Choice(name="price below", value="price_below")]
REPEATS = [app_commands.Choice(name="once", value="once"), app_commands.Choice(name="every time", value="every")]
TIMEFRAMES = [app_commands.Choice(name="tick", value="tick"), app_commands.Choice(name="minute close", value="minute"),
              app_commands.Choice(name="daily close", value="day")]
SNOOZES = [app_commands.Choice(name=name, value=minutes) for name, minutes in
           (("15 minutes", 15), ("30 minutes", 30), ("1 hour", 60), ("4 hours", 240))]


class AlertsCog(FeatureCog):
    alert = app_commands.Group(name="alert", description="Price alerts")

    @alert.command(name="add", description="Alert when price crosses a level")
    @app_commands.describe(symbol="Ticker", condition="Fire when price goes above or below the level",
                           level="Price level", threshold_pct="Also warn when price comes within this % of the level",
                           note="Shown with the alert")
    @app_commands.choices(condition=CONDITIONS, repeat=REPEATS, timeframe=TIMEFRAMES)
    async def add(self, interaction: discord.Interaction[Any], *, symbol: str, condition: app_commands.Choice[str],
                  level: app_commands.Range[float, 0.0001, None], repeat: app_commands.Choice[str] | None = None,
                  timeframe: app_commands.Choice[str] | None = None,
                  threshold_pct: app_commands.Range[float, 0.0, 50.0] | None = None,
                  note: app_commands.Range[str, 1, 200] | None = None) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        channels = ["ws", "discord"] if self.bot.settings.discord.alert_channel_id is not None else ["ws"]
        body: dict[str, Any] = {"symbol": symbol, "condition": condition.value, "level": Decimal(str(level)),
                                "channels": channels}
        if repeat is not None:
            body["repeat"] = repeat.value
        if timeframe is not None:
            body["timeframe"] = timeframe.value
        if threshold_pct is not None:
            body["threshold_pct"] = Decimal(str(threshold_pct))
        if note:
            body["note"] = note
        created = await self.runtime.alerts.create(body, actor=actor(interaction))
        await interaction.followup.send(embed=render.alert_created_embed(created), ephemeral=True)

    @add.autocomplete("symbol")
    async def _add_symbols(self, interaction: discord.Interaction[Any],
                           current: str) -> list[app_commands.Choice[str]]:
        return await symbol_choices(interaction, current)

    @alert.command(name="list", description="Your alerts")
    async def list_(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        alerts = [a for a in await self.runtime.alerts.list() if a.status != "deleted"]
        await interaction.followup.send(embed=render.alerts_list_embed(alerts), ephemeral=True)

    @alert.command(name="remove", description="Delete an alert")
    @app_commands.describe(alert_id="The alert id (from /alert list)")
    async def remove(self, interaction: discord.Interaction[Any], alert_id: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.runtime.alerts.delete(alert_id.strip())
        await interaction.followup.send(f"Alert `{alert_id.strip()}` deleted.", ephemeral=True)

    @alert.command(name="snooze", description="Silence an alert for a while")
    @app_commands.describe(alert_id="The alert id (from /alert list)", minutes="For how long")
    @app_commands.choices(minutes=SNOOZES)
    async def snooze(self, interaction: discord.Interaction[Any], alert_id: str,
                     minutes: app_commands.Choice[int]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        alert = await self.runtime.alerts.snooze(alert_id.strip(), minutes=minutes.value)
        text = f"Snoozed for {minutes.name} (until {alert.snoozed_until}): {render.alert_line(alert)}"
        await interaction.followup.send(render.clip(text, render.CONTENT_MAX), ephemeral=True)
