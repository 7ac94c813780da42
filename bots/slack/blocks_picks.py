"""`/ta picks` as Block Kit: one card per pick with Alert at trigger, Take setup and Explain buttons."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock

from bots.slack.blocks import Blocks, clip, dump, escape
from core.domain.pick_views import PickView, card_text
from core.domain.picks_universe import Universe

PICK_ACTION = "pick"  # action ids `pick:<alert|take|why>`, value: the pick id
VERBS = {"alert": "Alert at trigger", "take": "Take setup", "why": "Explain"}
MAX_CARDS = 10


def picks_blocks(items: list[PickView], universe: Universe) -> Blocks:
    note = universe.note()
    blocks: list[Any] = [ContextBlock(elements=[MarkdownTextObject(text=escape(note))])]
    if not items:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="No picks right now.")))
    for item in items[:MAX_CARDS]:
        title, body = card_text(item)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(f"*{escape(title)}*\n{escape(body)}", 3000))))
        if item.active:
            blocks.append(ActionsBlock(block_id=clip(f"{PICK_ACTION}|{item.id}", 255), elements=[
                ButtonElement(text=label, action_id=f"{PICK_ACTION}:{verb}", value=item.id,
                              style="primary" if verb == "take" else None)
                for verb, label in VERBS.items()]))
    return dump(blocks)
