"""Pure rendering of the planning commands: /plan (validation card), /size (sizing card), /settings (tunables).

Same rules as `render`: no I/O, every embed built with `render.make_embed` (Discord's limits respected).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import discord

from bots.discord.render import AMBER, GREEN, GREY, make_embed
from core.domain.confidence import Confidence
from core.domain.plans import Issue, PlanResult, fmt_money, fmt_num
from core.domain.sizing import SizingResult
from core.services.settings import Tunables

_LIMITED_BY_TEXT = {"risk_budget": "the risk budget (risk per trade)", "buying_power": "buying power",
                    "max_position_pct": "the max position % of equity", "max_order_notional": "the max order notional"}


def _issue_lines(issues: Sequence[Issue]) -> str:
    return "\n".join(f"• {issue.message}" for issue in issues)


def confidence_text(confidence: Confidence) -> str:
    """`72%` and one line per factor (value, weight, why)."""
    lines = [f"**{confidence.score:.0%}**"]
    lines += [f"{f.name} {f.value:.2f} (weight {f.weight:.2f}): {f.explanation}" for f in confidence.factors]
    return "\n".join(lines)


def sizing_fields(result: SizingResult) -> list[tuple[str, str, bool]]:
    """Quantity, risk $, what limited the size, and notes: shared by the /size card and the /plan card."""
    sizing = result.sizing
    if sizing is None:
        return [("Sizing", _issue_lines(result.errors) or result.summary, False)]
    fields = [(sizing.unit.title(), str(sizing.quantity), True),
              ("Risk $", f"{fmt_money(sizing.risk_amount)} of {fmt_money(sizing.risk_budget)} budget", True),
              ("Limited by", _LIMITED_BY_TEXT.get(sizing.limited_by.value, sizing.limited_by.value), True),
              ("Notional", f"{fmt_money(sizing.notional)} ({fmt_num(sizing.pct_of_equity)}% of equity)", True)]
    notes = [result.summary, *(w.message for w in result.warnings)]
    fields.append(("Notes", "\n".join(f"• {n}" for n in notes if n), False))
    return fields


def plan_embed(result: PlanResult, *, confidence: Confidence, sizing: SizingResult | None,
               notes: Sequence[str] = ()) -> discord.Embed:
    """A valid plan: R:R, target R multiples, R bands, the sizing suggestion, confidence with its factors."""
    plan = result.plan
    assert plan is not None
    title = f"Plan: {plan.side.value} {plan.symbol or ''} @ {fmt_num(plan.entry)}, stop {fmt_num(plan.stop)}"
    rr = f"{fmt_num(result.reward_risk)} (default {fmt_num(result.default_rr)})" if result.reward_risk is not None \
        else f"no target (default {fmt_num(result.default_rr)})"
    fields: list[tuple[str, str, bool]] = [
        ("Reward:risk", rr, True),
        ("Risk per share", f"{fmt_num(result.risk_per_share or Decimal(0))}"
                           f" ({fmt_num(result.risk_pct or Decimal(0))}%)", True)]
    if plan.targets:
        fields.append(("Targets", "\n".join(f"{fmt_num(p)} = {fmt_num(r)}R"
                                            for p, r in zip(plan.targets, result.target_r, strict=True)), True))
    if result.r_bands:
        fields.append(("R bands", "  ".join(f"{b.r}R {fmt_num(b.price)}" for b in result.r_bands), False))
    if sizing is not None:
        fields += sizing_fields(sizing)
    fields.append(("Confidence", confidence_text(confidence), False))
    if result.warnings:
        fields.append(("Warnings", _issue_lines(result.warnings), False))
    for note in notes:
        fields.append(("Note", note, False))
    colour = AMBER if result.warnings else GREEN
    return make_embed(title, result.summary, colour=colour, fields=fields)


def sizing_embed(result: SizingResult, account: dict[str, Any]) -> discord.Embed:
    sizing = result.sizing
    assert sizing is not None
    title = f"Size: {sizing.quantity} {sizing.unit}" + (f" {sizing.symbol}" if sizing.symbol else "")
    footer = f"equity {fmt_money(sizing.equity)} from the {account.get('source', 'request')}"
    return make_embed(title, f"entry {fmt_num(sizing.entry)}, stop {fmt_num(sizing.stop)}, "
                             f"risk {fmt_num(sizing.risk_per_trade_pct)}% per trade",
                      colour=GREEN if sizing.quantity > 0 else GREY, fields=sizing_fields(result), footer=footer)


def _flat(prefix: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [item for key, inner in value.items() for item in _flat(f"{prefix}.{key}" if prefix else key, inner)]
    if isinstance(value, list):
        return [(prefix, ", ".join(map(str, value)) or "(empty)")]
    return [(prefix, str(value))]


def setting_items(tunables: Tunables) -> list[tuple[str, str]]:
    """Every tunable as (dotted key, value), e.g. ("risk.max_daily_loss_usd", "500")."""
    return _flat("", tunables.model_dump(mode="json"))


def settings_embed(tunables: Tunables, note: str | None = None) -> discord.Embed:
    """The tunables (risk limits, R:R, watchlist, alert routing); never secrets: those are not tunables."""
    fields = [(key, value, True) for key, value in setting_items(tunables)]
    return make_embed("Settings", note or "Change one with /settings set (traders only).",
                      colour=GREEN if note else GREY, fields=fields)


def plan_error_text(errors: Sequence[Issue], what: str) -> str:
    """`plan not valid` and one line per problem, naming its field."""
    return f"{what} not valid:\n" + "\n".join(f"• {e.field or 'input'}: {e.message}" for e in errors)

