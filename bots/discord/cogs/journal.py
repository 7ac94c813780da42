"""/journal add|list|export."""

from __future__ import annotations

import io
import re
from typing import Any

import discord
from discord import app_commands

from bots.discord import render
from bots.discord.cogs.common import FeatureCog, actor, symbol_choices
from core.domain.journal import JournalDraft, JournalQuery
from core.services.validation import parse

LIST_LIMIT = 10
FORMATS = [app_commands.Choice(name="CSV", value="csv"), app_commands.Choice(name="JSON", value="json")]
_TAG_SPLIT = re.compile(r"[,\s]+")


def split_tags(tags: str | None) -> list[str]:
    return [tag.lstrip("#") for tag in _TAG_SPLIT.split(tags or "") if tag.lstrip("#")]


class JournalCog(FeatureCog):
    journal = app_commands.Group(name="journal", description="The trading journal")

    @journal.command(name="add", description="Write a journal note")
    @app_commands.describe(body="The note", symbol="Ticker it is about", tags="Tags, separated by commas or spaces")
    async def add(self, interaction: discord.Interaction[Any], body: app_commands.Range[str, 1, 4000],
                  symbol: str | None = None, tags: app_commands.Range[str, 1, 400] | None = None) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        fields: dict[str, Any] = {"kind": "note", "body": body, "tags": split_tags(tags)}
        if symbol:
            fields["symbol"] = symbol
        entry = await self.runtime.journal.add(parse(JournalDraft, fields, "journal entry"), actor=actor(interaction))
        await interaction.followup.send(embed=render.journal_added_embed(entry), ephemeral=True)

    @add.autocomplete("symbol")
    async def _add_symbols(self, interaction: discord.Interaction[Any],
                           current: str) -> list[app_commands.Choice[str]]:
        return await symbol_choices(interaction, current)

    @journal.command(name="list", description=f"The latest {LIST_LIMIT} journal entries")
    async def list_(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        page = await self.runtime.journal.list(JournalQuery(limit=LIST_LIMIT))
        await interaction.followup.send(embed=render.journal_list_embed(page.items), ephemeral=True)

    @journal.command(name="export", description="The whole journal as a file")
    @app_commands.describe(format="File format")
    @app_commands.choices(format=FORMATS)
    async def export(self, interaction: discord.Interaction[Any], format: app_commands.Choice[str]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        data, _ = await self.runtime.journal.export(JournalQuery(), format.value)
        file = discord.File(io.BytesIO(data), filename=f"journal.{format.value}")
        await interaction.followup.send(f"Journal export ({len(data)} bytes).", file=file, ephemeral=True)
