"""Pure rendering of a coach reply (`CoachReply.to_dict()`) for its Slack thread.

The answer text as markdown sections, then one card per suggestion: its text, confidence and rationale, a
context line with the sources (tool · endpoint · as-of), and a button when it has an action. A drafted order's
button (`Review order`) carries only `<intent id>|<confirm token>`; the click shows the standard order preview
(Confirm with Slack's native dialog, Cancel), so the coach itself never confirms anything. An alert draft's
button (`Create alert`) carries the draft as compact JSON.
"""

from __future__ import annotations

from typing import Any

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

COACH_ORDER = "coach_order"  # value: `<intent id>|<token>`
COACH_ALERT = "coach_alert"  # value: the alert draft as JSON
KIND_ICONS = {"plan": ":clipboard:", "order": ":money_with_wings:", "alert": ":bell:", "info": ":information_source:"}
MAX_SOURCES = 5


def _sources(sources: list[dict[str, Any]]) -> str:
    shown = [f"{s.get('tool')} · {s.get('endpoint')}" + (f" · {slack_time(s['as_of'])}" if s.get("as_of") else "")
             for s in sources[:MAX_SOURCES]]
    more = len(sources) - MAX_SOURCES
    return "Sources: " + ("; ".join(shown) if shown else "none") + (f" (+{more} more)" if more > 0 else "")


def _button(suggestion: dict[str, Any], n: int) -> ButtonElement | None:
    action = suggestion.get("action") or {}
    payload = action.get("payload") or {}
    if action.get("kind") == "order_intent" and action.get("ref") and payload.get("token"):
        return ButtonElement(text="Review order", action_id=f"{COACH_ORDER}:{n}", style="primary",
                             value=order_value(str(action["ref"]), str(payload["token"])))
    if action.get("kind") == "alert_draft":
        value = orjson.dumps(payload).decode()
        if len(value) <= VALUE_LIMIT:
            return ButtonElement(text="Create alert", action_id=f"{COACH_ALERT}:{n}", value=value)
    return None


def suggestion_card(suggestion: dict[str, Any], n: int) -> list[Block]:
    """Kind and confidence first (never clipped), then the suggestion and its rationale."""
    kind = str(suggestion.get("kind") or "info")
    confidence = (suggestion.get("confidence") or {}).get("score")
    text = f"{KIND_ICONS.get(kind, ':bulb:')} *{kind.capitalize()}*"
    if confidence is not None:
        text += f" · *confidence {round(float(confidence) * 100)}%*"
    text += f"\n{escape(str(suggestion.get('text') or ''))}"
    if suggestion.get("rationale"):
        text += f"\n_{escape(str(suggestion['rationale']))}_"
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=clip(text, SECTION_LIMIT))),
                           ContextBlock(elements=[MarkdownTextObject(
                               text=clip(_sources(suggestion.get("sources") or []), SECTION_LIMIT))])]
    button = _button(suggestion, n)
    if button is not None:
        blocks.append(ActionsBlock(block_id=f"coach_suggestion_{n}", elements=[button]))
    return blocks


def coach_messages(reply: dict[str, Any]) -> list[Blocks]:
    """The whole reply as one or more messages of at most 50 blocks (answer first, then the suggestions)."""
    text = escape(str(reply.get("content") or "(no answer)"))
    if reply.get("unverified_numbers"):
        text += "\n_Not from a tool result, check before use: " + ", ".join(reply["unverified_numbers"]) + "_"
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=piece)) for piece in chunks(text)]
    for n, suggestion in enumerate(reply.get("suggestions") or []):
        blocks += suggestion_card(suggestion, n)
    notes = [escape(str(note)) for note in reply.get("notes") or []]
    if notes:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=clip(" · ".join(notes), SECTION_LIMIT))]))
    return split_messages(_dump_all(blocks), MAX_BLOCKS)


def _dump_all(blocks: list[Block]) -> Blocks:
    """`dump` without the one-message limit (the caller splits)."""
    return [block for start in range(0, len(blocks), MAX_BLOCKS) for block in dump(blocks[start:start + MAX_BLOCKS])]


def coach_title(reply: dict[str, Any]) -> str:
    return clip(" ".join(str(reply.get("content") or "Coach").split()), 150)
