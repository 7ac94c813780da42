"""/options chain and /options express: the chain around the money, and a stock plan expressed as contracts,
each single-contract candidate with a Take button (contract + count; the order is priced at the click)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal

import discord
from discord import app_commands

from bots.discord import render
from bots.discord.access import TraderButton
from bots.discord.buttons import CUSTOM_ID_MAX, actor_of, runtime_of, send_preview
from bots.discord.cogs.common import FeatureCog, symbol_choices
from bots.options_text import chain_text, express_text
from core.domain.access import Action
from core.domain.options_express import Candidate, ExpressPrefs, StockPlan
from core.errors import Invalid

DISCORD_LIMIT = 2000


def _prices(raw: str, name: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in raw.replace(",", " ").split())
    except ValueError:
        raise Invalid(f"{name} are prices separated by commas, e.g. 104.5, 106", details={"field": name}) from None


def _fit(text: str) -> str:
    return text if len(text) <= DISCORD_LIMIT else text[: DISCORD_LIMIT - 1] + "…"


_OCC = r"[A-Z]{1,6}\d{6}[CP]\d{8}"


class TakeContract(TraderButton, template=rf"opt:take:(?P<occ>{_OCC})(?:\+(?P<sell>{_OCC}))?:(?P<count>\d{{1,4}})"):
    """Buy `count` of the contract (or the debit vertical: buy `occ`, sell `sell`) at the live mid(s): a reference,
    never a price fixed at render time."""

    action = Action.ORDER_PROPOSE

    def __init__(self, occ: str, sell: str | None, count: int) -> None:
        legs = f"{occ}+{sell}" if sell else occ
        super().__init__(discord.ui.Button(label=render.clip(f"Take {count} x {legs.replace('+', ' / ')}", 80),
                                           style=discord.ButtonStyle.primary, custom_id=f"opt:take:{legs}:{count}"))
        self.occ, self.sell, self.count = occ, sell, count

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> TakeContract:
        return cls(match["occ"], match["sell"], int(match["count"]))

    async def run(self, interaction: discord.Interaction[Any]) -> None:
        result = await runtime_of(interaction).option_takes.propose(
            actor_of(interaction), self.occ, self.count, sell_symbol=self.sell, source="discord")
        await send_preview(interaction, result)


def take_buttons(candidates: tuple[Candidate, ...]) -> list[TakeContract]:
    """A Take button per candidate sized to at least one contract (a vertical's legs: bought, then sold)."""
    buttons = [TakeContract(c.legs[0].option_symbol, c.legs[1].option_symbol if len(c.legs) > 1 else None,
                            c.contracts) for c in candidates if c.contracts >= 1]
    return [b for b in buttons if len(str(b.item.custom_id)) <= CUSTOM_ID_MAX]


class OptionsCog(FeatureCog):
    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(TakeContract)

    options = app_commands.Group(name="options", description="Option chains and a plan expressed as options")

    @options.command(name="chain", description="The chain around the money, with greeks")
    @app_commands.describe(symbol="Underlying, e.g. SPY", expiration="YYYY-MM-DD (default: the nearest)")
    async def chain(self, interaction: discord.Interaction[Any], symbol: str, expiration: str | None = None) -> None:
        await interaction.response.defer(thinking=True)
        try:
            day = date.fromisoformat(expiration) if expiration else None
        except ValueError:
            raise Invalid("expiration is a date like 2026-12-18", details={"field": "expiration"}) from None
        result = await self.runtime.options.chain(symbol, day)
        await interaction.followup.send(_fit(chain_text(result)))

    @options.command(name="express", description="Express a stock plan as option contracts, sized to your risk")
    @app_commands.describe(symbol="Underlying, e.g. AAPL", side="long (calls) or short (puts)",
                           entry="Stock entry", stop="Stock stop", targets="Stock targets, e.g. 104, 106",
                           dte_max="Latest expiration in days (default 45)",
                           structure="single contracts, debit verticals, or both")
    async def express(self, interaction: discord.Interaction[Any], symbol: str,  # noqa: PLR0917
                      side: Literal["long", "short"], entry: float, stop: float, targets: str = "",
                      dte_max: app_commands.Range[int, 0, 3650] = 45,
                      structure: Literal["single", "vertical", "both"] = "both") -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        plan = StockPlan(side=side, entry=entry, stop=stop, targets=_prices(targets, "targets"))
        result = await self.runtime.options.express(symbol, plan, ExpressPrefs(dte_max=dte_max, structure=structure))
        buttons = take_buttons(result.candidates)
        if buttons:
            await interaction.followup.send(_fit(express_text(result)), view=render.button_view(buttons),
                                            ephemeral=True)
        else:
            await interaction.followup.send(_fit(express_text(result)), ephemeral=True)

    @chain.autocomplete("symbol")
    async def _chain_symbols(self, interaction: discord.Interaction[Any],
                             current: str) -> list[app_commands.Choice[str]]:
        return await symbol_choices(interaction, current)
