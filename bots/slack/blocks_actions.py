"""Pure rendering of an `ActionOutcome` (what a chip, pick, position or plan button did) as Block Kit, and the
"Take setup" button of a `/ta plan` reply.

A proposal is the standard order preview with the bracket (entry, stop, target, quantity, 1R in dollars) and the
dollar effect of a roll or hedge ahead of its risk verdict; the native confirm dialog repeats them.
"""

from __future__ import annotations

from typing import Any

import orjson
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, MarkdownTextObject, SectionBlock

from bots.slack.blocks import (
    FIELDS_PER_SECTION,
    ORDER_CONFIRM,
    VALUE_LIMIT,
    Blocks,
    clip,
    dump,
    escape,
    order_preview_blocks,
    text_blocks,
)
from core.domain.action_refs import PlanDraft
from core.domain.numbers import money_text
from core.domain.plans import Plan, fmt_num
from core.services.action_outcome import ActionOutcome

PLAN_TAKE = "plan_take"  # value: the plan as JSON {symbol, side, entry, stop, targets}
TAKE_LABEL = "Take setup (1R)"
CONFIRM_TEXT_LIMIT = 300


def _fields(outcome: ActionOutcome) -> list[tuple[str, str]]:
    fields = list(outcome.bracket.fields()) if outcome.bracket is not None else []
    if outcome.effect is not None:
        fields.append((outcome.effect.label, f"{money_text(outcome.effect.dollars)}: {outcome.effect.detail}"))
    return fields


def _with_confirm_text(blocks: Blocks, lines: str) -> Blocks:
    """The Confirm button's dialog says what the bracket risks, not only the order."""
    for block in blocks:
        for element in block.get("elements") or []:
            confirm = element.get("confirm") if element.get("action_id") == ORDER_CONFIRM else None
            if confirm is not None:
                confirm["text"]["text"] = clip(f"{confirm['text']['text']} {lines}", CONFIRM_TEXT_LIMIT)
    return blocks


def outcome_blocks(outcome: ActionOutcome) -> Blocks:
    if outcome.proposal is None:
        text = escape(outcome.message)
        if outcome.plan is not None:
            plan = outcome.plan
            text += f"\n`/ta plan {plan.symbol} {plan.side} {plan.entry} {plan.stop} {' '.join(plan.targets)}`"
        return text_blocks(text.rstrip())[0]
    blocks = order_preview_blocks(outcome.proposal)
    fields = _fields(outcome)
    if not fields:
        return blocks
    section = dump([SectionBlock(fields=[MarkdownTextObject(text=f"*{name}*\n{clip(escape(value), 1900)}")
                                         for name, value in fields][:FIELDS_PER_SECTION])])
    verdict = f"Risk {outcome.proposal.risk.decision}: {outcome.proposal.risk.reason}"
    if outcome.bracket is not None:
        lines = "; ".join(f"{name} {value}" for name, value in outcome.bracket.fields())
    else:
        lines = f"{fields[0][0]} {money_text(outcome.effect.dollars if outcome.effect else None)}"
    return _with_confirm_text([blocks[0], *section, *blocks[1:]], f"{lines}. {verdict}.")


def plan_take_value(plan: PlanDraft) -> str:
    value = orjson.dumps(plan.to_dict()).decode()
    if len(value) > VALUE_LIMIT:
        raise ValueError("a plan exceeds Slack's 2000-character button value")
    return value


def parse_plan_value(value: str) -> PlanDraft | None:
    try:
        body: Any = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    return PlanDraft.of(body) if isinstance(body, dict) else None


def plan_take_block(plan: Plan) -> Blocks:
    """The button that takes a checked plan (with a symbol) as a bracket: the same action as Discord's /plan."""
    draft = PlanDraft(plan.symbol or "", plan.side.value, fmt_num(plan.entry), fmt_num(plan.stop),
                      tuple(fmt_num(t) for t in plan.targets[:1]))
    return dump([ActionsBlock(block_id="plan_actions", elements=[
        ButtonElement(text=TAKE_LABEL, action_id=PLAN_TAKE, value=plan_take_value(draft), style="primary")])])
