"""Buttons that survive restarts: `DynamicItem`s whose custom ids carry only ids (+ the order's confirm HMAC).

    ord:ok:<intent id>:<confirm token>       Confirm (danger)  -> OrderService.confirm
    ord:no:<intent id>                       Cancel            -> OrderService.cancel_intent
    alr:chip:<alert id>:<trigger id>:<chip id>   any chip of a fire -> ActionService (alert, trigger, chip) -> outcome
    alr:snooze:<alert id> / alr:dismiss:<alert id>   a card without a stored trigger -> AlertService.snooze / dismiss
    pos:<trim|close|be|roll|hedge|collar>:<symbol>   a position button -> ActionService (position) -> outcome
    brk:cancel:<broker order id>             Cancel a working order       -> OrderService.propose_cancel -> preview
    pln:take:<side>:<symbol>:<entry>:<stop>[:<target>]  Take the setup (1R), registered by cogs/plans.py -> outcome

Nothing is kept in memory: a new bot process rebuilds each item from its custom id (`add_dynamic_items`); only
the expiry timers of the previews this process showed live in memory (`PreviewExpiry`). Every button is a
`TraderButton` (bots.discord.access): the trader check, the defer and the error reply live there once.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import discord

from bots.discord import render
from bots.discord.access import TraderButton
from bots.discord.render_actions import outcome_embed
from core.domain.access import Action
from core.domain.action_refs import ActionRef, Target
from core.domain.actions import SNOOZE_SEC, ActionKind
from core.domain.deliveries import Delivery
from core.domain.order_views import AccountOrder, PositionItem
from core.errors import Conflict, Expired
from core.services.action_outcome import ActionOutcome
from core.services.orders import ProposeResult
from core.services.position_orders import POSITION_ACTION_LABELS, PositionAction, actions_for

if TYPE_CHECKING:
    from bots.discord.expiry import PreviewExpiry
    from core.runtime import Runtime

CUSTOM_ID_MAX = 100


def runtime_of(interaction: discord.Interaction[Any]) -> Runtime:
    return cast("Runtime", interaction.client.runtime)


def previews_of(interaction: discord.Interaction[Any]) -> PreviewExpiry:
    return cast("PreviewExpiry", interaction.client.previews)


def actor_of(interaction: discord.Interaction[Any]) -> str:
    return f"discord:{interaction.user.id}"


class ConfirmOrder(TraderButton, template=r"ord:ok:(?P<id>[A-Za-z0-9-]{1,40}):(?P<token>[A-Za-z0-9_-]{1,60})"):
    action = Action.ORDER_CONFIRM
    ephemeral_thinking = False  # the broker call may take seconds; the outcome replaces the preview

    def __init__(self, intent_id: str, token: str) -> None:
        super().__init__(discord.ui.Button(label="Confirm", style=discord.ButtonStyle.danger,
                                           custom_id=f"ord:ok:{intent_id}:{token}"))
        self.intent_id, self.token = intent_id, token

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> ConfirmOrder:
        return cls(match["id"], match["token"])

    async def run(self, interaction: discord.Interaction[Any]) -> None:
        rt = runtime_of(interaction)
        try:
            result = await rt.orders.confirm(self.intent_id, self.token, actor_of(interaction))
        except Expired as exc:
            previews_of(interaction).settle(self.intent_id)
            await interaction.edit_original_response(
                embed=render.notice_embed("Order expired: nothing was sent", exc.message), view=None)
            return
        except Conflict as exc:
            previews_of(interaction).settle(self.intent_id)
            await interaction.followup.send(exc.message, ephemeral=True)
            return
        previews_of(interaction).settle(self.intent_id)
        await interaction.edit_original_response(embed=render.order_outcome_embed(result), view=None)


class CancelOrder(TraderButton, template=r"ord:no:(?P<id>[A-Za-z0-9-]{1,40})"):
    action = Action.ORDER_CANCEL
    ephemeral_thinking = False

    def __init__(self, intent_id: str) -> None:
        super().__init__(discord.ui.Button(label="Cancel", style=discord.ButtonStyle.secondary,
                                           custom_id=f"ord:no:{intent_id}"))
        self.intent_id = intent_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> CancelOrder:
        return cls(match["id"])

    async def run(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await runtime_of(interaction).orders.cancel_intent(self.intent_id, actor_of(interaction))
        except Conflict as exc:
            previews_of(interaction).settle(self.intent_id)
            await interaction.followup.send(exc.message, ephemeral=True)
            return
        previews_of(interaction).settle(self.intent_id)
        await interaction.edit_original_response(
            embed=render.notice_embed("Order cancelled", "Nothing was sent."), view=None)


class AlertAction(TraderButton, template=r"alr:(?P<verb>snooze|dismiss):(?P<id>[A-Za-z0-9-]{1,40})"):
    action = Action.ALERT_WRITE

    def __init__(self, verb: str, alert_id: str, label: str | None = None) -> None:
        style = discord.ButtonStyle.secondary
        super().__init__(discord.ui.Button(label=render.clip(label or verb.title(), render.LABEL_MAX), style=style,
                                           custom_id=f"alr:{verb}:{alert_id}"))
        self.verb, self.alert_id = verb, alert_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> AlertAction:
        label = item.label if isinstance(item, discord.ui.Button) else None
        return cls(match["verb"], match["id"], label)

    async def run(self, interaction: discord.Interaction[Any]) -> None:
        alerts = runtime_of(interaction).alerts
        if self.verb == "snooze":
            alert = await alerts.snooze(self.alert_id, minutes=SNOOZE_SEC // 60)  # the chip's duration
            text = f"Snoozed until {alert.snoozed_until}: {render.alert_line(alert)}"
        else:
            alert = await alerts.dismiss(self.alert_id)
            text = f"Dismissed: {render.alert_line(alert)}"
        await interaction.followup.send(render.clip(text, render.CONTENT_MAX), ephemeral=True)


class AlertChip(TraderButton,
                template=r"alr:chip:(?P<id>[A-Za-z0-9-]{1,40}):(?P<trigger>[A-Za-z0-9-]{1,40}):(?P<chip>[A-Za-z0-9_-]{1,25})"):
    action = Action.ORDER_PROPOSE

    def __init__(self, alert_id: str, trigger_id: str, chip_id: str, label: str | None = None) -> None:
        style = discord.ButtonStyle.secondary if chip_id in ("snooze", "dismiss") else discord.ButtonStyle.primary
        super().__init__(discord.ui.Button(label=render.clip(label or chip_id, render.LABEL_MAX), style=style,
                                           custom_id=f"alr:chip:{alert_id}:{trigger_id}:{chip_id}"))
        self.alert_id, self.trigger_id, self.chip_id = alert_id, trigger_id, chip_id

    def required_action(self) -> Action:
        return ActionRef(Target.ALERT, self.chip_id, self.trigger_id).access

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> AlertChip:
        label = item.label if isinstance(item, discord.ui.Button) else None
        return cls(match["id"], match["trigger"], match["chip"], label)

    async def run(self, interaction: discord.Interaction[Any]) -> None:
        ref = ActionRef(Target.ALERT, self.chip_id, self.trigger_id)
        await send_outcome(interaction, await runtime_of(interaction).actions.execute(
            actor_of(interaction), ref, source="discord"))


POSITION_VERBS = {"trim": PositionAction.TRIM, "close": PositionAction.CLOSE, "be": PositionAction.BREAKEVEN,
                  "roll": PositionAction.ROLL, "hedge": PositionAction.HEDGE, "collar": PositionAction.COLLAR}
VERB_OF = {action: verb for verb, action in POSITION_VERBS.items()}


class PositionButton(TraderButton,
                     template=r"pos:(?P<verb>trim|close|be|roll|hedge|collar):(?P<symbol>[A-Za-z0-9./-]{1,40})"):
    action = Action.ORDER_PROPOSE

    def __init__(self, verb: str, symbol: str) -> None:
        label = render.clip(f"{POSITION_ACTION_LABELS[POSITION_VERBS[verb]]} · {symbol}", render.LABEL_MAX)
        style = discord.ButtonStyle.danger if verb == "close" else discord.ButtonStyle.secondary
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=f"pos:{verb}:{symbol}"))
        self.verb, self.symbol = verb, symbol

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> PositionButton:
        return cls(match["verb"], match["symbol"])

    async def run(self, interaction: discord.Interaction[Any]) -> None:
        ref = ActionRef(Target.POSITION, POSITION_VERBS[self.verb].value, self.symbol)
        await send_outcome(interaction, await runtime_of(interaction).actions.execute(
            actor_of(interaction), ref, source="discord"))


class CancelBrokerOrder(TraderButton, template=r"brk:cancel:(?P<id>[A-Za-z0-9-]{1,64})"):
    action = Action.ORDER_CANCEL

    def __init__(self, order_id: str) -> None:
        super().__init__(discord.ui.Button(label=render.clip(f"Cancel {order_id}", render.LABEL_MAX),
                                           style=discord.ButtonStyle.secondary, custom_id=f"brk:cancel:{order_id}"))
        self.order_id = order_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> CancelBrokerOrder:
        return cls(match["id"])

    async def run(self, interaction: discord.Interaction[Any]) -> None:
        result = await runtime_of(interaction).orders.propose_cancel(
            actor_of(interaction), self.order_id, rationale="/orders Cancel", source="discord")
        await send_preview(interaction, result)


DYNAMIC_ITEMS: tuple[type[TraderButton], ...] = (ConfirmOrder, CancelOrder, AlertAction, AlertChip, PositionButton,
                                                  CancelBrokerOrder)


def confirm_view(intent_id: str, token: str) -> discord.ui.View:
    return render.button_view([ConfirmOrder(intent_id, token), CancelOrder(intent_id)])


async def send_outcome(interaction: discord.Interaction[Any], outcome: ActionOutcome) -> None:
    """What a click did (after a defer): a proposal as its preview with Confirm/Cancel, else one notice."""
    if outcome.proposal is None:
        await interaction.followup.send(embed=outcome_embed(outcome), ephemeral=True)
        return
    await send_preview(interaction, outcome.proposal, embed=outcome_embed(outcome))


async def send_preview(interaction: discord.Interaction[Any], result: ProposeResult, *,
                       embed: discord.Embed | None = None) -> None:
    """The ephemeral preview of a proposal (after a defer): Confirm/Cancel, or the risk refusal without buttons.
    A preview with buttons loses them when its confirm TTL elapses unanswered (`PreviewExpiry`)."""
    embed = embed or render.order_preview_embed(result)
    intent, token = result.intent, result.token
    if intent is None or token is None:
        await interaction.followup.send(embed=embed, ephemeral=True)
        return
    message = await interaction.followup.send(embed=embed, view=confirm_view(intent.id, token), ephemeral=True,
                                              wait=True)
    if intent.expires_at:
        previews_of(interaction).watch(intent.id, datetime.fromisoformat(intent.expires_at), message)


def alert_view(delivery: Delivery) -> discord.ui.View | None:
    """The alert's next-best-action chips as buttons (at most 25, custom ids within 100 chars): each one a
    reference to the stored trigger and the chip, never the order."""
    meta = delivery.meta
    alert_id = meta.alert_id or delivery.alert_id or ""
    trigger_id = delivery.trigger_id or meta.trigger_id or ""
    if not alert_id:
        return None
    items: list[discord.ui.Item[Any]] = []
    for chip in meta.actions or ():
        custom_id = f"alr:chip:{alert_id}:{trigger_id}:{chip.id}"
        if trigger_id and len(custom_id) <= CUSTOM_ID_MAX and \
                AlertChip.__discord_ui_compiled_template__.fullmatch(custom_id):
            items.append(AlertChip(alert_id, trigger_id, chip.id, chip.label))
        elif chip.kind in (ActionKind.SNOOZE, ActionKind.DISMISS):  # no stored trigger to run the chip by: the alert
            items.append(AlertAction(chip.kind.value, alert_id, chip.label))
    return render.button_view(items) if items else None


def positions_view(positions: list[PositionItem]) -> discord.ui.View | None:
    """One row of Trim 50% / Close / Stop to BE / Roll (options) or Hedge / Collar (stock) per position (symbols that
    fit a custom id)."""
    rows: list[list[discord.ui.Item[Any]]] = []
    for item in positions:
        symbol = item.symbol
        if PositionButton.__discord_ui_compiled_template__.fullmatch(f"pos:trim:{symbol}"):
            rows.append([PositionButton(VERB_OF[action], symbol) for action in actions_for(symbol)])
    return render.rows_view(rows) if rows else None


def orders_view(orders: list[AccountOrder]) -> discord.ui.View | None:
    """A Cancel button per working order."""
    items: list[discord.ui.Item[Any]] = [
        CancelBrokerOrder(o.id) for o in orders
        if o.working and CancelBrokerOrder.__discord_ui_compiled_template__.fullmatch(f"brk:cancel:{o.id}")]
    return render.button_view(items) if items else None

