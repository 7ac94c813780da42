"""Pure rendering of a coach reply (`CoachReply`) for its Slack thread.

The answer text as markdown sections, then one card per suggestion: its text, confidence and rationale, a
context line with the sources (tool · endpoint · as-of), and a button when it has an action. A drafted order's
button (`Review order`) carries only `<intent id>|<confirm token>`; the click shows the standard order preview
(Confirm with Slack's native dialog, Cancel), so the coach itself never confirms anything. An alert draft's
button (`Create alert`) carries the draft as compact JSON.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock

from bots.slack.blocks import (
    MAX_BLOCKS,
    SECTION_LIMIT,
    VALUE_LIMIT,
    Blocks,
    chunks,
    clip,
    dump,
    escape,
    order_value,
    slack_time,
    split_messages,
)
from core.domain.coach import Source, Suggestion
from core.domain.coach_replies import CoachReply

COACH_ORDER = "coach_order"  # value: `<intent id>|<token>`
COACH_ALERT = "coach_alert"  # value: the alert draft as JSON
KIND_ICONS = {"plan": ":clipboard:", "order": ":money_with_wings:", "alert": ":bell:", "info": ":information_source:"}
MAX_SOURCES = 5


def _sources(sources: Sequence[Source]) -> str:
    shown = [f"{s.tool} · {s.endpoint}" + (f" · {slack_time(s.as_of)}" if s.as_of else "")
             for s in sources[:MAX_SOURCES]]
    more = len(sources) - MAX_SOURCES
    return "Sources: " + ("; ".join(shown) if shown else "none") + (f" (+{more} more)" if more > 0 else "")


def _button(suggestion: Suggestion, n: int) -> ButtonElement | None:
    action = suggestion.action
    if action is None:
        return None
    if (confirm := action.confirm) is not None:
        return ButtonElement(text="Review order", action_id=f"{COACH_ORDER}:{n}", style="primary",
                             value=order_value(*confirm))
    if action.kind == "alert_draft":
        value = orjson.dumps(dict(action.payload)).decode()
        if len(value) <= VALUE_LIMIT:
            return ButtonElement(text="Create alert", action_id=f"{COACH_ALERT}:{n}", value=value)
    return None


def suggestion_card(suggestion: Suggestion, n: int) -> list[Block]:
    """Kind and confidence first (never clipped), then the suggestion and its rationale."""
    kind = suggestion.kind.value
    text = f"{KIND_ICONS.get(kind, ':bulb:')} *{kind.capitalize()}*"
    text += f" · *confidence {round(suggestion.confidence.score * 100)}%*"
    text += f"\n{escape(suggestion.text)}"
    if suggestion.rationale:
        text += f"\n_{escape(suggestion.rationale)}_"
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=clip(text, SECTION_LIMIT))),
                           ContextBlock(elements=[MarkdownTextObject(
                               text=clip(_sources(suggestion.sources), SECTION_LIMIT))])]
    button = _button(suggestion, n)
    if button is not None:
        blocks.append(ActionsBlock(block_id=f"coach_suggestion_{n}", elements=[button]))
    return blocks


def coach_messages(reply: CoachReply) -> list[Blocks]:
    """The whole reply as one or more messages of at most 50 blocks (answer first, then the suggestions)."""
    text = escape(reply.content or "(no answer)")
    if reply.unverified_numbers:
        text += "\n_Not from a tool result, check before use: " + ", ".join(reply.unverified_numbers) + "_"
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=piece)) for piece in chunks(text)]
    for n, suggestion in enumerate(reply.suggestions):
        blocks += suggestion_card(suggestion, n)
    notes = [escape(note) for note in reply.notes]
    if notes:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=clip(" · ".join(notes), SECTION_LIMIT))]))
    return split_messages(_dump_all(blocks), MAX_BLOCKS)


def _dump_all(blocks: list[Block]) -> Blocks:
    """`dump` without the one-message limit (the caller splits)."""
    return [block for start in range(0, len(blocks), MAX_BLOCKS) for block in dump(blocks[start:start + MAX_BLOCKS])]


def coach_title(reply: CoachReply) -> str:
    return clip(" ".join((reply.content or "Coach").split()), 150)
