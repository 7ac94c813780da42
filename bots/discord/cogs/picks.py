"""/picks: the top picks as cards (anyone), each with Alert at trigger, Take setup and Explain (traders).

    pck:alert:<pick id>   Alert at trigger -> ActionService (pick, alert)
    pck:take:<pick id>    Take setup       -> ActionService (pick, take) -> the bracket preview (Confirm/Cancel)
    pck:why:<pick id>     Explain          -> PicksService.explain (the coach, with the pick as a tool result)
"""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import app_commands

from bots.discord import render
from bots.discord.access import TraderButton
from bots.discord.buttons import actor_of, runtime_of, send_outcome
from bots.discord.cogs.common import FeatureCog
from core.domain.access import Action
from core.domain.action_refs import ActionRef, Target
from core.domain.pick_views import PickView, card_text

MAX_CARDS = 5
_COLOURS = {"forming": render.BLUE, "triggered": render.GREEN, "invalidated": render.RED, "expired": render.GREY}
_LABELS = {"alert": "Alert at trigger", "take": "Take setup", "why": "Explain"}
_ACTIONS = {"alert": Action.ALERT_WRITE, "take": Action.ORDER_PROPOSE, "why": Action.COACH}


def pick_embed(item: PickView) -> discord.Embed:
    title, body = card_text(item)
    return render.make_embed(title, body, colour=_COLOURS.get(item.status, render.BLUE))


class PickAction(TraderButton, template=r"pck:(?P<verb>alert|take|why):(?P<id>[A-Za-z0-9]{1,32})"):
    def __init__(self, verb: str, pick_id: str, label: str | None = None, row: int | None = None) -> None:
        style = discord.ButtonStyle.primary if verb == "take" else discord.ButtonStyle.secondary
        super().__init__(discord.ui.Button(label=render.clip(label or _LABELS[verb], render.LABEL_MAX), style=style,
                                           custom_id=f"pck:{verb}:{pick_id}", row=row))
        self.verb, self.pick_id = verb, pick_id

    def required_action(self) -> Action:
        return _ACTIONS[self.verb]

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> PickAction:
        return cls(match["verb"], match["id"])

    async def run(self, interaction: discord.Interaction[Any]) -> None:
        runtime, actor = runtime_of(interaction), actor_of(interaction)
        if self.verb in ("take", "alert"):
            ref = ActionRef(Target.PICK, self.verb, self.pick_id)
            await send_outcome(interaction, await runtime.actions.execute(actor, ref, source="discord"))
        else:
            reply = await runtime.picks.explain(self.pick_id, actor=actor)
            texts, embeds = render.coach_messages(reply)
            await interaction.followup.send(texts[0] if texts else "The coach had nothing to add.",
                                            embeds=embeds[:10], ephemeral=True)


def picks_view(items: list[PickView]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for row, item in enumerate(items[:MAX_CARDS]):
        if item.active:
            for verb in ("alert", "take", "why"):
                view.add_item(PickAction(verb, item.id, f"{item.symbol}: {_LABELS[verb]}", row))
    return view


class PicksCog(FeatureCog):
    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(PickAction)

    @app_commands.command(name="picks", description="Top intraday setups with explained confidence")
    @app_commands.describe(limit="How many (1-5)", setup="Only this setup, e.g. orb15", symbol="Only this ticker")
    async def picks(self, interaction: discord.Interaction[Any], limit: app_commands.Range[int, 1, MAX_CARDS] = 3,
                    setup: str | None = None, symbol: str | None = None) -> None:
        await interaction.response.defer(thinking=True)  # public market data: everyone may read it
        page = await self.runtime.picks.top(limit=limit, setup=setup, symbol=symbol, sized=False)  # a public reply
        note = page.universe.note()
        if not page.items:
            await interaction.followup.send(embed=render.notice_embed("No picks right now", note))
            return
        await interaction.followup.send(content=note, embeds=[pick_embed(i) for i in page.items[:MAX_CARDS]],
                                        view=picks_view(page.items))
