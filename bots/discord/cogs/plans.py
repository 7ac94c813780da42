"""/plan (validation card with a "Take the setup (1R)" button) and /size (sizing card), over PlanService.

Prices are taken as text and parsed by the domain, so the bot refuses the same inputs in the same words as
`POST /plan/validate` and names the field. The button carries the plan in its custom id (restart-proof, the first
target included); a click is the action service's plan take: re-sized against the live account, proposed as a
bracket (entry + stop, + target when there is one) and shown as the standard preview (nothing is sent without
Confirm).
"""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import app_commands

from bots.discord import render, render_plan
from bots.discord.access import TraderButton, discord_actor, may
from bots.discord.buttons import CUSTOM_ID_MAX, actor_of, runtime_of, send_outcome
from bots.discord.cogs.common import FeatureCog, symbol_choices
from core.domain.access import Action, check_account_read
from core.domain.action_refs import ActionRef, PlanDraft, Target
from core.domain.plans import fmt_num

SIDES = [app_commands.Choice(name="long", value="long"), app_commands.Choice(name="short", value="short")]
TAKE_LABEL = "Take the setup (1R)"
_SPLIT = re.compile(r"[,\s]+")


def split_targets(targets: str | None) -> list[str]:
    return [t for t in _SPLIT.split(targets or "") if t]


class TakeSetup(TraderButton,
                template=r"pln:take:(?P<side>long|short):(?P<symbol>[A-Z0-9./-]{1,21}):(?P<entry>[0-9.]{1,20}):"
                         r"(?P<stop>[0-9.]{1,20})(?::(?P<target>[0-9.]{1,20}))?"):
    """The plan as a bracket at its entry with its stop (and first target), sized to risk 1R (the risk budget)."""

    action = Action.ORDER_PROPOSE

    def __init__(self, side: str, symbol: str, entry: str, stop: str, target: str | None = None) -> None:
        custom_id = f"pln:take:{side}:{symbol}:{entry}:{stop}" + (f":{target}" if target else "")
        super().__init__(discord.ui.Button(label=TAKE_LABEL, style=discord.ButtonStyle.primary, custom_id=custom_id))
        self.plan = PlanDraft(symbol, side, entry, stop, (target,) if target else ())

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> TakeSetup:
        return cls(match["side"], match["symbol"], match["entry"], match["stop"], match["target"])

    @classmethod
    def fits(cls, custom_id: str) -> bool:
        return len(custom_id) <= CUSTOM_ID_MAX and cls.__discord_ui_compiled_template__.fullmatch(custom_id) is not None

    async def run(self, interaction: discord.Interaction[Any]) -> None:
        ref = ActionRef(Target.PLAN, "take", plan=self.plan)
        await send_outcome(interaction, await runtime_of(interaction).actions.execute(
            actor_of(interaction), ref, source="discord"))


class PlansCog(FeatureCog):
    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(TakeSetup)

    @app_commands.command(name="plan", description="Check a trade plan: R:R, R bands, size, confidence")
    @app_commands.describe(symbol="Ticker", side="Long or short", entry="Entry price", stop="Stop price",
                           targets="Up to 3 target prices, separated by commas or spaces")
    @app_commands.choices(side=SIDES)
    async def plan(self, interaction: discord.Interaction[Any], *, symbol: str, side: app_commands.Choice[str],
                   entry: app_commands.Range[str, 1, 30], stop: app_commands.Range[str, 1, 30],
                   targets: app_commands.Range[str, 1, 100] | None = None) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # a live quote and an account read
        check = await self.runtime.plans.validate(side=side.value, entry=entry.strip(), stop=stop.strip(),
                                                  targets=split_targets(targets), symbol=symbol)
        result = check.result
        if not result.ok or result.plan is None:
            await interaction.followup.send(render_plan.plan_error_text(result.errors, "plan"), ephemeral=True)
            return
        # the calculator is public; the account is not
        offer = await self.runtime.plans.offer(check, account=may(interaction, Action.ACCOUNT_READ))
        embed = render_plan.plan_embed(result, confidence=offer.confidence,
                                       sizing=offer.sizing.result if offer.sizing else None, notes=list(offer.notes))
        plan = result.plan
        button = TakeSetup(plan.side.value, plan.symbol or "", fmt_num(plan.entry), fmt_num(plan.stop),
                           fmt_num(plan.targets[0]) if plan.targets else None)
        if not offer.take or not TakeSetup.fits(str(button.item.custom_id)):
            await interaction.followup.send(embed=embed, ephemeral=True)
            return
        await interaction.followup.send(embed=embed, view=render.button_view([button]), ephemeral=True)

    @app_commands.command(name="size", description="Position size for an entry and stop under your risk limits")
    @app_commands.describe(symbol="Ticker", entry="Entry price", stop="Stop price",
                           risk_pct="Percent of equity to risk (default: your risk per trade)",
                           confidence="0-1: scales the risk budget between 0.5x and 1x",
                           equity="Account equity to size against (default: the broker's, traders only)")
    async def size(self, interaction: discord.Interaction[Any], *, symbol: str, entry: app_commands.Range[str, 1, 30],
                   stop: app_commands.Range[str, 1, 30],
                   risk_pct: app_commands.Range[float, 0.01, 10.0] | None = None,
                   confidence: app_commands.Range[float, 0.0, 1.0] | None = None,
                   equity: app_commands.Range[float, 1.0, None] | None = None) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # may read the broker's equity
        if equity is None:
            check_account_read(discord_actor(interaction.user.id), self.runtime.settings.traders,
                               instead="Give `equity` to size without the account.")
        check = await self.runtime.plans.size(
            entry=entry.strip(), stop=stop.strip(), symbol=symbol, equity=None if equity is None else str(equity),
            confidence=None if confidence is None else str(confidence),
            risk_per_trade_pct=None if risk_pct is None else str(risk_pct))
        if not check.result.ok:
            await interaction.followup.send(render_plan.plan_error_text(check.result.errors, "sizing"),
                                            ephemeral=True)
            return
        await interaction.followup.send(embed=render_plan.sizing_embed(check.result, check.account), ephemeral=True)

    @plan.autocomplete("symbol")
    @size.autocomplete("symbol")
    async def _symbols(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return await symbol_choices(interaction, current)

