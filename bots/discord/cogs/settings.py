"""/settings show (the tunables, never secrets) and /settings set key value (traders only, as every command that
is not public in core.domain.access).

Keys are the dotted names `/settings show` lists (`default_rr`, `risk.max_daily_loss_usd`, `alert_types.discord`,
`watchlist`); list values are written separated by commas or spaces. SettingsService validates the whole result,
so a bad value is refused with the field named and nothing is changed.
"""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import app_commands

from bots.discord import render_plan
from bots.discord.cogs.common import MAX_CHOICES, FeatureCog, actor
from core.errors import Invalid
from core.services.settings import Tunables

_LIST_SPLIT = re.compile(r"[,\s]+")


def settings_patch(tunables: Tunables, key: str, value: str) -> dict[str, Any]:
    """`risk.max_daily_loss_usd`, "400" -> {"risk": {"max_daily_loss_usd": "400"}} (lists split); unknown key ->
    Invalid naming it."""
    current = dict(render_plan.setting_items(tunables))
    if key not in current:
        raise Invalid(f"unknown setting {key!r}; use one of: {', '.join(current)}", details={"field": "key"})
    section, _, name = key.partition(".")
    existing = tunables.model_dump(mode="json")[section]
    is_list = isinstance(existing.get(name) if name else existing, list)
    parsed: Any = [item for item in _LIST_SPLIT.split(value) if item] if is_list else value.strip()
    return {section: {name: parsed}} if name else {section: parsed}


class SettingsCog(FeatureCog):
    settings = app_commands.Group(name="settings", description="Risk limits, R:R, watchlist and alert routing")

    @settings.command(name="show", description="Show the current settings")
    async def show(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        tunables = await self.runtime.settings_service.get()
        await interaction.followup.send(embed=render_plan.settings_embed(tunables), ephemeral=True)

    @settings.command(name="set", description="Change one setting (traders only)")
    @app_commands.describe(key="The setting, e.g. risk.max_daily_loss_usd", value="The new value")
    async def set_(self, interaction: discord.Interaction[Any], key: app_commands.Range[str, 1, 100],
                   value: app_commands.Range[str, 1, 2000]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        service = self.runtime.settings_service
        key = key.strip()
        updated = await service.update(settings_patch(await service.get(), key, value), actor=actor(interaction))
        shown = dict(render_plan.setting_items(updated))[key]
        await interaction.followup.send(embed=render_plan.settings_embed(updated, f"Set {key} to {shown}."),
                                        ephemeral=True)

    @set_.autocomplete("key")
    async def _keys(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        """Setting names containing what was typed (a local DB read: autocomplete cannot be deferred)."""
        typed = current.strip().lower()
        keys = [k for k, _ in render_plan.setting_items(await self.runtime.settings_service.get()) if typed in k]
        return [app_commands.Choice(name=k, value=k) for k in keys[:MAX_CHOICES]]
