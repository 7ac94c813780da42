"""Pure rendering of the plan, sizing and settings cards (`/ta plan`, `/ta size`, `/ta settings`).

Same conventions as `bots.slack.blocks`: slack_sdk.models objects, validated by `dump`. Prices keep core's exact
notation (`fmt_num`); money is dollars to the cent.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, PlainTextObject, SectionBlock

from bots.slack.blocks import (
    FIELDS_PER_SECTION,
    HEADER_LIMIT,
    SECTION_LIMIT,
    Blocks,
    chunks,
    clip,
    dump,
    escape,
    lines_blocks,
)
from core.domain.numbers import money_text
from core.domain.plans import Issue, fmt_num
from core.services.plans import PlanOffer, SizeCheck

LIMITED_BY = {"risk_budget": "the risk budget", "buying_power": "buying power",
              "max_position_pct": "the max position size", "max_order_notional": "the max order notional"}


def _field(name: str, value: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=f"*{name}*\n{clip(value, 1900)}")


def _num(value: Decimal | None) -> str:
    return "n/a" if value is None else fmt_num(value)


def _summary(summary: str, warnings: Sequence[Issue]) -> list[Block]:
    text = summary + "".join(f"\n:warning: {issue.message}" for issue in warnings)
    return [SectionBlock(text=MarkdownTextObject(text=piece)) for piece in chunks(escape(text))[:5]]


def plan_blocks(offer: PlanOffer) -> Blocks:
    """A valid plan's card (PlanService refused an invalid one with `Invalid` before this): the plan, the sizing
    where the actor may read the account, the confidence, and notes on what is missing."""
    check = offer.check
    result, plan = check.result, check.result.plan
    assert plan is not None
    title = f"Plan · {plan.symbol or 'no symbol'} {plan.side.value}"
    targets = ", ".join(f"{fmt_num(price)} ({fmt_num(r)}R)" for price, r in zip(plan.targets, result.target_r,
                                                                                strict=True))
    bands = ", ".join(f"{band.r}R {fmt_num(band.price)}" for band in result.r_bands)
    fields = [_field("Entry", fmt_num(plan.entry)), _field("Stop", fmt_num(plan.stop)),
              _field("Risk / unit", _num(result.risk_per_unit if result.risk_per_unit is not None
                                         else result.risk_per_share)),
              _field("Risk %", f"{fmt_num(result.risk_pct)}%" if result.risk_pct is not None else "n/a"),
              _field("Targets", targets or f"none (default {fmt_num(result.default_rr)}R)"),
              _field("Reward : risk", f"{fmt_num(result.reward_risk)}R" if result.reward_risk is not None else "n/a")]
    if bands:
        fields.append(_field("R bands", bands))
    sized = offer.sizing.result.sizing if offer.sizing is not None else None
    if sized is not None:
        fields.append(_field("Size", f"{sized.quantity} {sized.unit}, risking {money_text(sized.risk_amount)}"))
    fields.append(_field("Confidence", f"{offer.confidence.score:.0%}"))
    context = [f"Instrument: {plan.instrument.value}"]
    if check.market is not None and check.market.last is not None:
        context.append(f"last {fmt_num(check.market.last)}{' (stale)' if check.market.stale else ''}"
                       f" from {check.market_source or 'market data'}")
    context += list(offer.notes)
    return dump([HeaderBlock(text=PlainTextObject(text=clip(title, HEADER_LIMIT))),
                 SectionBlock(fields=fields[:FIELDS_PER_SECTION]), *_summary(result.summary, result.warnings),
                 ContextBlock(elements=[MarkdownTextObject(text=clip(" · ".join(context), SECTION_LIMIT))])])


def sizing_blocks(check: SizeCheck) -> Blocks:
    result, sizing = check.result, check.result.sizing
    assert sizing is not None
    title = f"Size · {sizing.symbol or 'no symbol'} {sizing.side.value}"
    fields = [_field("Quantity", f"{sizing.quantity} {sizing.unit}"),
              _field("Risk per trade", f"{fmt_num(sizing.risk_per_trade_pct)}% = {money_text(sizing.risk_budget)}"),
              _field("Risk taken", money_text(sizing.risk_amount)), _field("Notional", money_text(sizing.notional)),
              _field("% of equity", f"{fmt_num(sizing.pct_of_equity)}%"),
              _field("Limited by", LIMITED_BY.get(sizing.limited_by.value, sizing.limited_by.value))]
    source = check.account.get("source", "request")
    context = (f"Equity {money_text(sizing.equity)} ({source}) · entry {fmt_num(sizing.entry)} · "
               f"stop {fmt_num(sizing.stop)}")
    return dump([HeaderBlock(text=PlainTextObject(text=clip(title, HEADER_LIMIT))),
                 SectionBlock(fields=fields), *_summary(result.summary, result.warnings),
                 ContextBlock(elements=[MarkdownTextObject(text=context)])])


def _flatten(prefix: str, value: Any) -> list[str]:
    if isinstance(value, dict):
        return [line for key, inner in value.items() for line in _flatten(f"{prefix}.{key}" if prefix else key, inner)]
    shown = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return [f"`{prefix}` = {escape(shown) or '(empty)'}"]


def settings_blocks(tunables: dict[str, Any]) -> list[Blocks]:
    """The editable settings (`Tunables`, which hold no secrets), one `key = value` line each."""
    lines = _flatten("", tunables)
    lines.append("_Change one with `/ta settings set KEY VALUE` (traders only), e.g. "
                 "`/ta settings set risk.max_trades_per_day 8`._")
    return lines_blocks("Settings", lines, "")
