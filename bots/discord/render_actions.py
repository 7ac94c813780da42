"""Pure rendering of an `ActionOutcome` (what a chip, pick, position or plan button did) as an embed: a proposal
is the standard order preview plus the bracket (entry, stop, target, quantity, 1R in dollars) and the dollar
effect of a roll or hedge, ahead of its risk verdict."""

from __future__ import annotations

import discord

from bots.discord import render
from core.domain.numbers import money_text
from core.services.action_outcome import ActionOutcome, OutcomeKind

TITLES = {OutcomeKind.SNOOZED: "Alert snoozed", OutcomeKind.DISMISSED: "Alert dismissed",
          OutcomeKind.ALERT_CREATED: "Alert created", OutcomeKind.PLAN: "Plan this setup"}


def outcome_embed(outcome: ActionOutcome) -> discord.Embed:
    if outcome.proposal is None:
        text = outcome.message
        if outcome.plan is not None:
            plan = outcome.plan
            text += (f"\n`/plan symbol:{plan.symbol} side:{plan.side} entry:{plan.entry} stop:{plan.stop}"
                     f"{' targets:' + ' '.join(plan.targets) if plan.targets else ''}`")
        return render.notice_embed(TITLES.get(outcome.kind, "Done"), text, colour=render.BLUE)
    embed = render.order_preview_embed(outcome.proposal)
    fields = [(name, value, True) for name, value in outcome.bracket.fields()] if outcome.bracket else []
    if outcome.effect is not None:
        fields.append((outcome.effect.label, f"{money_text(outcome.effect.dollars)}: {outcome.effect.detail}", False))
    for index, (name, value, inline) in enumerate(fields):
        if len(embed.fields) >= render.FIELDS_MAX:
            break
        embed.insert_field_at(1 + index, name=name, value=render.clip(value, render.FIELD_VALUE_MAX), inline=inline)
    return embed
