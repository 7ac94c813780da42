"""Pure rendering: domain values -> Block Kit, built with `slack_sdk.models` so Slack's limits are validated.

Every builder returns JSON-ready block dicts (`validate_json()` ran on each block: 3000-char sections, 10 fields,
2000-char button values, confirm dialog limits...). A message never carries more than `MAX_BLOCKS` blocks and a
section never more than `SECTION_LIMIT` characters: long text is split over several sections and several
messages (`split_messages`). No I/O here; handlers call these after one core call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bots.status_text import live_state
from core.domain.actions import ActionKind
from core.domain.alert_views import AlertView
from core.domain.deliveries import Delivery
from core.domain.journal import JournalEntryView
from core.domain.market import Quote
from core.domain.numbers import money_text, pnl_text
from core.domain.order_text import document_line, intent_line, view_line
from core.domain.order_views import AccountOrder, Intent, PositionItem
from core.domain.risk_view import RiskStateView
from core.errors import CoreError, IntegrationDisabled, RiskDenied
from core.services.orders import ProposeResult
from core.services.position_orders import POSITION_ACTION_LABELS, PositionAction, actions_for

MAX_BLOCKS = 50
SECTION_LIMIT = 3000
FIELDS_PER_SECTION = 10
VALUE_LIMIT = 2000
HEADER_LIMIT = 150
FALLBACK_LIMIT = 3000

ORDER_CONFIRM = "order_confirm"
ORDER_CANCEL = "order_cancel"
CHIP_ACTION = "alert_chip"
POSITION_ACTION = "position"  # action ids `position:<action>`, values `<symbol>|<action>`
BROKER_CANCEL = "broker_order_cancel"  # value: the broker order id
SEP = "|"
LIST_BODY_LIMIT = 300

Blocks = list[dict[str, Any]]


def dump(blocks: Iterable[Block]) -> Blocks:
    out = []
    for block in blocks:
        block.validate_json()
        out.append(block.to_dict())
    if len(out) > MAX_BLOCKS:
        raise ValueError(f"a Slack message holds at most {MAX_BLOCKS} blocks, got {len(out)}")
    return out


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"




def slack_time(value: datetime | str | None) -> str:
    if value is None:
        return "unknown time"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    unix = int(value.timestamp())
    return f"<!date^{unix}^{{date_short_pretty}} {{time_secs}}|{value.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC>"


def chunks(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Split text at line breaks (or hard, for a very long line) into pieces of at most `limit` characters."""
    pieces: list[str] = []
    current = ""
    for raw in text.splitlines(keepends=True) or [""]:
        line = raw
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        if len(current) + len(line) > limit:
            pieces.append(current)
            current = ""
        current += line
    if current or not pieces:
        pieces.append(current)
    return [piece.rstrip("\n") or " " for piece in pieces]


def split_messages(blocks: Sequence[dict[str, Any]], limit: int = MAX_BLOCKS) -> list[Blocks]:
    """Several messages of at most `limit` blocks each, in order."""
    return [list(blocks[i:i + limit]) for i in range(0, len(blocks), limit)] or [[]]


def text_blocks(text: str) -> list[Blocks]:
    """Long text as markdown sections of <= 3000 characters, grouped into messages of <= 50 blocks."""
    sections = [SectionBlock(text=MarkdownTextObject(text=piece)) for piece in chunks(text)]
    return [dump(SectionBlock(text=MarkdownTextObject(text=block["text"]["text"])) for block in message)
            for message in split_messages([s.to_dict() for s in sections])]


def fallback(text: str) -> str:
    """The notification text that goes with blocks (shown where blocks cannot be)."""
    return clip(text, FALLBACK_LIMIT)


def error_text(exc: CoreError) -> str:
    """The one place a core error becomes a user message."""
    if isinstance(exc, IntegrationDisabled):
        return f":warning: {exc.integration} is disabled: {exc.reason}. To enable: {exc.how_to_enable}"
    if isinstance(exc, RiskDenied):
        return f":no_entry: Risk denied: {exc.reason}"
    return f":warning: {exc.message}"


def error_blocks(exc: CoreError) -> Blocks:
    return dump([SectionBlock(text=MarkdownTextObject(text=clip(error_text(exc), SECTION_LIMIT)))])


# -- quote ---------------------------------------------------------------------------------------------------------


def quote_title(quote: Quote) -> str:
    change = quote.change_pct
    if quote.last is None:
        return f"{quote.symbol} · no last price"
    if change is None:
        return f"{quote.symbol} · {money_text(quote.last)}"
    arrow = "▲" if change > 0 else "▼" if change < 0 else "•"
    return f"{quote.symbol} · {money_text(quote.last)} {arrow} {change:+.2f}%"


def quote_blocks(quote: Quote) -> Blocks:
    fields = [
        MarkdownTextObject(text=f"*Last*\n{money_text(quote.last)}"),
        MarkdownTextObject(text=f"*Change*\n{money_text(quote.change) if quote.change is not None else 'n/a'}"),
        MarkdownTextObject(text=f"*Bid / Ask*\n{money_text(quote.bid)} / {money_text(quote.ask)}"),
        MarkdownTextObject(text=f"*Prev close*\n{money_text(quote.prev_close)}"),
    ]
    return dump([
        HeaderBlock(text=PlainTextObject(text=clip(quote_title(quote), HEADER_LIMIT))),
        SectionBlock(fields=fields),
        ContextBlock(elements=[MarkdownTextObject(text=f"Data: {quote.source} · as of {slack_time(quote.ts)}")]),
    ])


# -- orders --------------------------------------------------------------------------------------------------------


def pair_value(first: str, second: str) -> str:
    """A button value of two parts (`first|second`), within Slack's 2000 characters."""
    value = f"{first}{SEP}{second}"
    if len(value) > VALUE_LIMIT:
        raise ValueError("a button value exceeds Slack's 2000 characters")
    return value


def parse_pair_value(value: str) -> tuple[str, str]:
    first, _, second = value.partition(SEP)
    return first, second


def order_value(intent_id: str, token: str) -> str:
    """What an order button carries: the intent id and its HMAC confirm token, nothing else."""
    return pair_value(intent_id, token)


parse_order_value = parse_pair_value


def order_preview_blocks(result: ProposeResult) -> Blocks:
    """A proposal: a denial, or a preview with Confirm/Cancel (native confirm)."""
    mode, risk, intent = result.mode, result.risk, result.intent
    if intent is None or result.token is None:
        text = f":no_entry: *Risk denied* [{mode}]: {risk.reason or 'no reason given'}"
        return dump([SectionBlock(text=MarkdownTextObject(text=clip(text, SECTION_LIMIT)))])
    summary = document_line(intent.shown_order)
    fields = [MarkdownTextObject(text=f"*Order*\n{clip(summary, 1900)}"),
              MarkdownTextObject(text=f"*Account*\n{mode}")]
    preview = result.preview
    if preview is not None:
        for label, amount in (("Est. cost", preview.estimated_cost), ("Commission", preview.commission),
                              ("Fees", preview.fees)):
            if amount is not None:
                fields.append(MarkdownTextObject(text=f"*{label}*\n{money_text(amount)}"))
    fields.append(MarkdownTextObject(text=f"*Risk*\n{clip(risk.reason or risk.decision, 1900)}"))
    value = order_value(intent.id, result.token)
    cancelling = intent.action == "cancel"
    confirm = ConfirmObject(
        title="Cancel this order?" if cancelling else "Place this order?",
        text=clip(f"{'Cancel ' if cancelling else ''}{summary} in the {mode} account.", 300),
        confirm="Cancel order" if cancelling else "Place order", deny="Keep editing", style="danger")
    title = f"Cancel preview [{mode}]" if cancelling else f"Order preview [{mode}]"
    return dump([
        HeaderBlock(text=PlainTextObject(text=clip(title, HEADER_LIMIT))),
        SectionBlock(fields=fields[:FIELDS_PER_SECTION]),
        ActionsBlock(block_id="order_actions", elements=[
            ButtonElement(text="Confirm", action_id=ORDER_CONFIRM, value=value, style="danger", confirm=confirm),
            ButtonElement(text="Cancel", action_id=ORDER_CANCEL, value=value),
        ]),
        ContextBlock(elements=[MarkdownTextObject(
            text=f"Expires {slack_time(intent.expires_at)} · only the proposer can confirm")]),
    ])


def order_outcome_blocks(intent: Intent, *, outcome: str | None = None, reason: str | None = None) -> Blocks:
    """What became of an intent (a confirm's outcome, a cancel, or its status) replacing the preview: no buttons."""
    status = outcome or intent.status.lower()
    icon = {"submitted": ":white_check_mark:", "cancelled": ":x:"}.get(status, ":warning:")
    text = f"{icon} *{status.upper()}*: {intent_line(intent)}"
    if reason:
        text += f"\n{reason}"
    if intent.broker_order_id:
        text += f"\nBroker order {intent.broker_order_id}"
    return dump([SectionBlock(text=MarkdownTextObject(text=clip(text, SECTION_LIMIT)))])


# -- positions and broker orders -----------------------------------------------------------------------------------


def position_value(symbol: str, action: PositionAction) -> str:
    """What a position button carries: the symbol and the action, nothing else (the click re-reads the position)."""
    return pair_value(symbol, action)


parse_position_value = parse_pair_value


def position_card(position: PositionItem) -> list[Block]:
    """A section with the position's numbers and an actions block with Trim 50% / Close / Stop to BE (/ Roll)."""
    symbol, pct, r = position.symbol, position.unrealized_pct, position.r_multiple
    fields = [
        MarkdownTextObject(text=f"*Avg price*\n{money_text(position.average_price)}"),
        MarkdownTextObject(text=f"*Last*\n{money_text(position.last)}"),
        MarkdownTextObject(text=f"*Unrealized P&L*\n{pnl_text(position.unrealized_pnl)}"
                                + (f" ({pct}%)" if pct is not None else "")),
        MarkdownTextObject(text=f"*R multiple*\n{f'{r}R' if r is not None else 'no plan'}"),
    ]
    heading = f"*{clip(symbol, 100)}* · {position.side} {position.quantity}"
    return [
        SectionBlock(text=MarkdownTextObject(text=heading), fields=fields),
        ActionsBlock(block_id=clip(f"{POSITION_ACTION}{SEP}{symbol}", 255), elements=[
            ButtonElement(text=POSITION_ACTION_LABELS[action], action_id=f"{POSITION_ACTION}:{action}",
                          value=position_value(symbol, action),
                          style="danger" if action is PositionAction.CLOSE else None)
            for action in actions_for(symbol)]),
    ]


def positions_blocks(positions: Sequence[PositionItem]) -> list[Blocks]:
    """A header, then a card (2 blocks) per position; several messages when there are more than 24."""
    if not positions:
        return text_blocks("No open positions.")
    per_message = (MAX_BLOCKS - 1) // 2
    messages = []
    for start in range(0, len(positions), per_message):
        blocks: list[Block] = []
        if start == 0:
            blocks.append(HeaderBlock(text=PlainTextObject(text=f"Open positions ({len(positions)})")))
        for position in positions[start:start + per_message]:
            blocks += position_card(position)
        messages.append(dump(blocks))
    return messages


def broker_order_line(order: AccountOrder) -> str:
    icon = "🟡" if order.working else {"filled": "🟢", "rejected": "🔴"}.get(order.status, "⚪")
    text = f"{icon} `{order.id}` {view_line(order)} · *{order.status}*"
    if order.exec_quantity > 0:
        text += f" · filled {order.exec_quantity} @ {money_text(order.avg_fill_price)}"
    if order.manual:
        text += " · _manual_"
    return clip(text, SECTION_LIMIT)


def broker_orders_blocks(orders: Sequence[AccountOrder]) -> list[Blocks]:
    """A header and one section per order; working orders carry a Cancel button (the value is the order id)."""
    if not orders:
        return text_blocks("No orders today.")
    sections: list[dict[str, Any]] = [HeaderBlock(text=PlainTextObject(text=f"Today's orders ({len(orders)})"))
                                      .to_dict()]
    for order in orders:
        accessory = None
        if order.working:
            accessory = ButtonElement(text="Cancel", action_id=BROKER_CANCEL, value=clip(order.id, 64),
                                      style="danger")
        sections += dump([SectionBlock(text=MarkdownTextObject(text=broker_order_line(order)), accessory=accessory)])
    return split_messages(sections)


# -- journal -------------------------------------------------------------------------------------------------------


def escape(text: str) -> str:
    """User text in mrkdwn: &, < and > must be escaped or Slack reads them as control sequences."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def journal_line(entry: JournalEntryView) -> str:
    body = " ".join(entry.body.split())
    parts = [f"`{entry.id[:8]}`", slack_time(entry.created_at), entry.kind]
    if entry.symbol:
        parts.append(f"*{entry.symbol}*")
    line = " · ".join(parts) + f"\n{escape(clip(body, LIST_BODY_LIMIT))}"
    if entry.tags:
        line += "\n_" + " ".join(f"#{tag}" for tag in entry.tags) + "_"
    return line


# -- alerts --------------------------------------------------------------------------------------------------------


def chip_value(trigger_id: str, chip_id: str) -> str:
    """What a chip button carries: the trigger id and the chip id (the click rebuilds the order from them)."""
    return pair_value(trigger_id, chip_id)


parse_chip_value = parse_pair_value


def alert_card(delivery: Delivery) -> Blocks:
    """A delivered `alert` event (level, msg, meta with chips) as a channel card."""
    meta = delivery.meta
    symbol = meta.symbol or ""
    icon = {"critical": "🔴", "warning": "🟠"}.get(delivery.level, "🔔")
    title = clip(f"{icon} {symbol} alert".strip() if symbol else f"{icon} Alert", HEADER_LIMIT)
    fields = [MarkdownTextObject(text=f"*{name}*\n{clip(str(value), 1900)}") for name, value in (
        ("Symbol", symbol), ("Price", money_text(meta.price) if meta.price is not None else ""),
        ("Condition", meta.condition), ("Level", meta.level)) if value]
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=title))]
    blocks += [SectionBlock(text=MarkdownTextObject(text=piece)) for piece in chunks(delivery.msg)[:5]]
    if fields:
        blocks.append(SectionBlock(fields=fields[:FIELDS_PER_SECTION]))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text=f"Triggered {slack_time(delivery.triggered_at)} · source: alert engine")]))
    trigger_id = delivery.trigger_id or meta.trigger_id or ""
    chips = (meta.actions or ())[:5]
    if chips and trigger_id:
        blocks.append(ActionsBlock(block_id="alert_chips", elements=[
            ButtonElement(text=clip(chip.label, 75), action_id=f"{CHIP_ACTION}:{n}",
                          value=chip_value(trigger_id, chip.id),
                          style="primary" if chip.kind is ActionKind.ORDER else None)
            for n, chip in enumerate(chips)]))
    return dump(blocks)


# -- lists and state -----------------------------------------------------------------------------------------------


def lines_blocks(title: str, lines: Sequence[str], empty: str) -> list[Blocks]:
    header = [HeaderBlock(text=PlainTextObject(text=clip(title, HEADER_LIMIT))).to_dict()]
    body = text_blocks("\n".join(lines) if lines else empty)
    messages = [header + body[0], *body[1:]]
    return [message for group in messages for message in split_messages(group)]


def alert_line(alert: AlertView) -> str:
    condition = alert.condition.replace("price_", "")
    return f"`{alert.id}` {alert.symbol} {condition} {alert.level} · {alert.status}"


def risk_blocks(state: RiskStateView) -> Blocks:
    icon = {"ACTIVE": "🟢", "REDUCE_ONLY": "🟠", "HALTED": "🔴"}.get(state.status, "⚪")
    text = f"{icon} *Risk: {state.status}*"
    if state.equity is not None and state.day_pnl is not None:
        text += f"\nEquity {money_text(state.equity)} · day P&L {money_text(state.day_pnl)}"
    lines = [*state.reasons, *(usage.text for usage in state.usage), *state.warnings]
    if lines:
        text += "\n" + "\n".join(f"• {line}" for line in lines)
    if state.how_to_enable:
        text += f"\n_{state.how_to_enable}_"
    return dump([SectionBlock(text=MarkdownTextObject(text=clip(text, SECTION_LIMIT)))])


def status_blocks(integrations: dict[str, dict[str, Any]]) -> Blocks:
    lines = []
    for name, status in sorted(integrations.items()):
        mark = "🟢" if status.get("enabled") else "⚪"
        line = f"{mark} *{name}*: {status.get('reason', '')}"
        if not status.get("enabled") and status.get("how_to_enable"):
            line += f" — {status['how_to_enable']}"
        live = live_state(status)
        if live:
            line += f" ({live})"
        lines.append(line)
    header = HeaderBlock(text=PlainTextObject(text="Trading Assistant status"))
    return dump([header, *(SectionBlock(text=MarkdownTextObject(text=p)) for p in chunks("\n".join(lines)))])
