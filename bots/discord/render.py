"""Pure rendering: domain values and service results -> `discord.Embed` / `discord.ui.View`.

No I/O and no core calls here. Every builder respects Discord's limits (embed 6000 chars in total, title 256,
description 4096, 25 fields of name 256 / value 1024, footer 2048; 5 buttons per row, 5 rows; message content
2000 chars): text is cut with an ellipsis, extra fields dropped, long content split with `split_content`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import discord

from bots.status_text import live_state
from core.domain.alert_views import AlertCreated, AlertView
from core.domain.coach import Suggestion
from core.domain.coach_replies import CoachReply
from core.domain.deliveries import Delivery
from core.domain.events import AlertMeta
from core.domain.journal import JournalEntryView
from core.domain.market import Quote
from core.domain.numbers import fmt_signed_money, money_text, pnl_text
from core.domain.order_text import document_line, intent_line, view_line
from core.domain.order_views import AccountOrder, PositionItem
from core.domain.risk_view import RiskStateView
from core.services.orders import ConfirmResult, ProposeResult

CONTENT_MAX = 2000
EMBED_TOTAL_MAX = 6000
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
BUTTONS_PER_ROW = 5
ROWS_MAX = 5
LABEL_MAX = 80

GREEN = 0x2ECC71
RED = 0xE74C3C
GREY = 0x95A5A6
AMBER = 0xF1C40F
BLUE = 0x3498DB


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with an ellipsis when it was longer."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def split_content(text: str, limit: int = CONTENT_MAX) -> list[str]:
    """Message-sized chunks of `text`, split at line breaks (then spaces) where possible; never empty."""
    if not text:
        return [""]
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
        chunks.append(rest[:cut])
        rest = rest[cut:].lstrip("\n ") if cut < len(rest) else ""
    if rest:
        chunks.append(rest)
    return chunks


def embed_size(embed: discord.Embed) -> int:
    """What Discord counts toward the 6000-character total."""
    total = len(embed.title or "") + len(embed.description or "")
    total += sum(len(f.name or "") + len(f.value or "") for f in embed.fields)
    total += len(embed.footer.text or "") + len(embed.author.name or "")
    return total


def make_embed(title: str, description: str | None = None, *, colour: int = BLUE,
               fields: Iterable[tuple[str, str, bool]] = (), footer: str | None = None,
               timestamp: datetime | None = None) -> discord.Embed:
    """An embed with every part clipped to its limit, at most 25 fields, and the total kept under 6000."""
    title, footer = clip(title, TITLE_MAX), clip(footer, FOOTER_MAX) if footer else None
    room = min(DESCRIPTION_MAX, EMBED_TOTAL_MAX - len(title) - len(footer or ""))
    embed = discord.Embed(title=title, colour=colour, timestamp=timestamp,
                          description=clip(description, room) if description else None)
    if footer:
        embed.set_footer(text=footer)
    budget = EMBED_TOTAL_MAX - embed_size(embed)
    for count, (raw_name, raw_value, inline) in enumerate(fields):
        name, value = clip(raw_name or "-", FIELD_NAME_MAX), clip(raw_value or "-", FIELD_VALUE_MAX)
        if count >= FIELDS_MAX or len(name) + len(value) > budget:
            break
        embed.add_field(name=name, value=value, inline=inline)
        budget -= len(name) + len(value)
    return embed




# -- market ---------------------------------------------------------------------------------------------------


def quote_embed(quote: Quote) -> discord.Embed:
    change, pct = quote.change, quote.change_pct
    if change is None or pct is None:
        colour, move = GREY, ""
    else:
        colour = GREEN if change > 0 else RED if change < 0 else GREY
        arrow = "▲" if change > 0 else "▼" if change < 0 else "■"
        move = f" {arrow} {fmt_signed_money(change)} ({pct:+.2f}%)"
    last = money_text(quote.last) if quote.last is not None else "no last price"
    fields = [("Bid / Ask", f"{money_text(quote.bid)} / {money_text(quote.ask)}", True),
              ("Sizes", f"{quote.bid_size or 'n/a'} x {quote.ask_size or 'n/a'}", True),
              ("Prev close", money_text(quote.prev_close), True)]
    return make_embed(f"{quote.symbol} · {last}{move}", colour=colour, fields=fields,
                      footer=f"Data: {quote.source}", timestamp=quote.ts)


def watchlist_embed(symbols: Sequence[str], note: str | None = None) -> discord.Embed:
    body = ", ".join(symbols) if symbols else "The watchlist is empty: add a symbol with /watch add."
    return make_embed("Watchlist", f"{note}\n{body}" if note else body)


def status_embed(integrations: dict[str, dict[str, Any]]) -> discord.Embed:
    fields = []
    for name, status in integrations.items():
        state = "🟢 enabled" if status.get("enabled") else "🔴 disabled"
        detail = str(status.get("reason") or "")
        if not status.get("enabled") and status.get("how_to_enable"):
            detail += f"\nTo enable: {status['how_to_enable']}"
        live = live_state(status)
        if live:
            detail += "\n" + live
        fields.append((name, f"{state}\n{detail}".strip(), True))
    return make_embed("Integrations", fields=fields, timestamp=datetime.now(UTC))


# -- alerts ---------------------------------------------------------------------------------------------------

CONDITION_TEXT = {"price_above": "above", "price_below": "below"}
LEVEL_COLOURS = {"critical": RED, "warning": AMBER, "warn": AMBER, "info": BLUE, "success": GREEN}


def alert_line(alert: AlertView) -> str:
    cond = CONDITION_TEXT.get(alert.condition, alert.condition)
    text = f"`{alert.id}` **{alert.symbol}** {cond} {alert.level} ({alert.status})"
    if alert.note:
        text += f" · {alert.note}"
    return text


def alert_created_embed(alert: AlertCreated) -> discord.Embed:
    title = "Alert exists already" if alert.duplicate else "Alert created"
    warnings = list(alert.warnings)
    if alert.already_true:
        warnings.append("the condition is already true: it fires after price moves back and crosses again")
    return make_embed(title, alert_line(alert), colour=AMBER if warnings else GREEN,
                      fields=[("Warning", w, False) for w in warnings])


def fit_lines(lines: Sequence[str]) -> str:
    """As many whole lines as fit an embed description, then "... and N more" for the rest."""
    text, shown = "", 0
    for line in lines:
        if len(text) + len(line) + 1 > DESCRIPTION_MAX - 40:
            break
        text += line + "\n"
        shown += 1
    if shown < len(lines):
        text += f"... and {len(lines) - shown} more"
    return text


def alerts_list_embed(alerts: Sequence[AlertView]) -> discord.Embed:
    if not alerts:
        return make_embed("Alerts", "No alerts: create one with /alert add.")
    return make_embed(f"Alerts ({len(alerts)})", fit_lines([alert_line(a) for a in alerts]))


def alert_event_embed(delivery: Delivery) -> discord.Embed:
    """A delivered `alert` event (level, msg, meta) as a card: colour by level, price, condition, time, marks."""
    meta = delivery.meta
    symbol = meta.symbol or ""
    marks = [mark for mark, shown in (("approaching", meta.kind == "approaching"), ("late", meta.late)) if shown]
    title = f"{symbol} alert" if symbol else "Alert"
    if marks:
        title += f" ({', '.join(marks)})"
    fields = []
    if meta.price is not None:
        fields.append(("Price", meta.price, True))
    if meta.condition:
        cond = CONDITION_TEXT.get(meta.condition, meta.condition)
        fields.append(("Condition", f"{cond} {meta.level or ''}".strip(), True))
    if meta.note:
        fields.append(("Note", meta.note, False))
    return make_embed(title, delivery.msg, colour=LEVEL_COLOURS.get(delivery.level, BLUE), fields=fields,
                      footer=f"alert {meta.alert_id or delivery.alert_id or ''}".strip(),
                      timestamp=_fired_at(meta) or delivery.triggered_at)


def _fired_at(meta: AlertMeta) -> datetime | None:
    try:
        return datetime.fromisoformat(meta.fired_at) if meta.fired_at else None
    except ValueError:
        return None


# -- risk -----------------------------------------------------------------------------------------------------

RISK_COLOURS = {"ACTIVE": GREEN, "REDUCE_ONLY": AMBER, "HALTED": RED}


def risk_embed(state: RiskStateView) -> discord.Embed:
    fields: list[tuple[str, str, bool]] = []
    if state.equity is not None:
        fields.append(("Equity", money_text(state.equity), True))
    if state.day_pnl is not None:
        fields.append(("Day P&L", money_text(state.day_pnl), True))
    fields += [(usage.name, usage.text, True) for usage in state.usage]
    description = "\n".join(f"• {r}" for r in state.reasons) if state.reasons else None
    if state.how_to_enable:
        description = (description or "") + f"\nTo fix: {state.how_to_enable}"
    fields += [("Warning", warning, False) for warning in state.warnings]
    return make_embed(f"Risk: {state.status}", description, colour=RISK_COLOURS.get(state.status.upper(), GREY),
                      fields=fields)


# -- orders ---------------------------------------------------------------------------------------------------


def order_preview_embed(result: ProposeResult) -> discord.Embed:
    """A proposal: the exact order, cost, buying power effect, risk decision and the PAPER/LIVE badge."""
    mode, risk, intent = result.mode, result.risk, result.intent
    if intent is None or risk.denied:
        return make_embed(f"[{mode}] Order refused by risk", risk.reason or "denied", colour=RED)
    what = document_line(intent.shown_order)
    if intent.action == "cancel":
        what = f"Cancel working order `{intent.target_order_id}`: {what}"
    preview = result.preview
    fields = [("Order", what, False)]
    if preview is not None:
        fields += [("Estimated cost", money_text(preview.estimated_cost), True),
                   ("Commission", money_text(preview.commission), True),
                   ("Buying power effect", money_text(preview.buying_power_effect), True)]
    fields.append(("Risk", f"{risk.decision}: {risk.reason}", False))
    fields += [("Warning", warning, False) for warning in preview.warnings] if preview is not None else []
    footer = f"{mode} account · confirm before {intent.expires_at}" if intent.expires_at else f"{mode} account"
    return make_embed(f"[{mode}] Confirm order?", "Nothing is sent until you press Confirm.",
                      colour=AMBER if mode == "PAPER" else RED, fields=fields, footer=footer)


def order_outcome_embed(result: ConfirmResult) -> discord.Embed:
    """What a confirm did: the broker order id, or why nothing was sent."""
    intent, outcome = result.intent, result.outcome
    order = intent_line(intent)
    if outcome == "submitted":
        return make_embed("Order sent", f"{order}\nBroker order id: `{intent.broker_order_id}`", colour=GREEN)
    reason = result.reason or intent.error or outcome
    if outcome == "unknown":
        return make_embed("Order outcome unknown",
                          f"{order}\n{reason}\nIt is being looked up by its tag; it is never sent twice.",
                          colour=AMBER)
    return make_embed(f"Order not sent ({outcome})", f"{order}\n{reason}", colour=RED)


def notice_embed(title: str, text: str, *, colour: int = GREY) -> discord.Embed:
    return make_embed(title, text, colour=colour)


# -- positions and broker orders ------------------------------------------------------------------------------


def _pnl_colour(pnl: Decimal | None) -> int:
    return GREY if pnl is None or pnl == 0 else GREEN if pnl > 0 else RED


def position_embed(item: PositionItem) -> discord.Embed:
    """One open position: size, average, last, unrealized P&L (and R with a linked plan)."""
    pct = item.unrealized_pct
    pnl = pnl_text(item.unrealized_pnl) + (f" ({pct}%)" if pct is not None else "")
    fields = [("Quantity", f"{item.quantity} ({item.side})", True),
              ("Average", money_text(item.average_price), True),
              ("Last", money_text(item.last), True),
              ("Unrealized P&L", pnl, True)]
    if item.r_multiple is not None:
        fields.append(("R multiple", f"{item.r_multiple}R", True))
    return make_embed(item.symbol, colour=_pnl_colour(item.unrealized_pnl), fields=fields)


def broker_order_line(order: AccountOrder) -> str:
    text = f"`{order.id}` {view_line(order)} · {order.status}"
    if order.manual:
        text += " · manual"
    return text


def broker_orders_embed(orders: Sequence[AccountOrder]) -> discord.Embed:
    """Today's orders at the broker, working ones first."""
    if not orders:
        return make_embed("Orders today", "No orders at the broker today.")
    ordered = sorted(orders, key=lambda o: not o.working)
    text = fit_lines([broker_order_line(o) for o in ordered])
    working = sum(1 for o in orders if o.working)
    return make_embed(f"Orders today ({len(orders)}, {working} working)", text)


# -- journal --------------------------------------------------------------------------------------------------


def journal_line(entry: JournalEntryView) -> str:
    head = f"`{entry.id}` {entry.created_at[:16].replace('T', ' ')} · {entry.kind}"
    if entry.symbol:
        head += f" · **{entry.symbol}**"
    if entry.tags:
        head += " · " + " ".join(f"#{t}" for t in entry.tags)
    return f"{head}\n{clip(entry.body, 300)}"


def journal_added_embed(entry: JournalEntryView) -> discord.Embed:
    return make_embed("Journal entry added", journal_line(entry), colour=GREEN)


def journal_list_embed(entries: Sequence[JournalEntryView]) -> discord.Embed:
    if not entries:
        return make_embed("Journal", "No entries: write one with /journal add.")
    text = ""
    for entry in entries:
        line = journal_line(entry)
        if len(text) + len(line) + 2 > DESCRIPTION_MAX:
            break
        text += line + "\n\n"
    return make_embed(f"Journal (latest {len(entries)})", text.rstrip())


# -- views ----------------------------------------------------------------------------------------------------


def button_view(items: Sequence[discord.ui.Item[Any]]) -> discord.ui.View:
    """A persistent-style view (no timeout) with at most 5 rows of 5 buttons; extra items are left out."""
    view = discord.ui.View(timeout=None)
    for index, item in enumerate(items[: BUTTONS_PER_ROW * ROWS_MAX]):
        item.row = index // BUTTONS_PER_ROW
        view.add_item(item)
    return view


def rows_view(rows: Sequence[Sequence[discord.ui.Item[Any]]]) -> discord.ui.View:
    """A view (no timeout) with one row per group of items: at most 5 rows of 5; extra items are left out."""
    view = discord.ui.View(timeout=None)
    for index, row in enumerate(rows[:ROWS_MAX]):
        for item in row[:BUTTONS_PER_ROW]:
            item.row = index
            view.add_item(item)
    return view


# -- coach ----------------------------------------------------------------------------------------------------

EMBEDS_PER_MESSAGE = 10


def suggestion_embed(suggestion: Suggestion) -> discord.Embed:
    confidence = suggestion.confidence
    factors = ", ".join(f"{f.name} {f.value}" for f in confidence.factors)
    sources = "\n".join(f"{s.tool} · {s.endpoint} · {s.as_of.isoformat() if s.as_of else 'n/a'}"
                        for s in suggestion.sources)
    fields = [("Confidence", f"{confidence.score:.0%}", True), ("Kind", suggestion.kind.value, True)]
    if factors:
        fields.append(("Factors", factors, False))
    if sources:
        fields.append(("Sources", sources, False))
    return make_embed(suggestion.text or "Suggestion", suggestion.rationale, colour=BLUE, fields=fields)


def coach_messages(reply: CoachReply) -> tuple[list[str], list[discord.Embed]]:
    """The reply text split into message-sized chunks, and at most 10 suggestion embeds (the last message's)."""
    text = reply.content
    if reply.unverified_numbers:
        text += f"\n\n⚠ Not verified against this turn's data: {', '.join(reply.unverified_numbers)}"
    embeds = [suggestion_embed(s) for s in reply.suggestions[:EMBEDS_PER_MESSAGE]]
    return split_content(text or "(no answer)"), embeds
