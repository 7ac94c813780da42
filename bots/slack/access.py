"""The Slack side of core.domain.access: the action of every `/ta` subcommand, button and modal, and the one Bolt
middleware that refuses a user not in TRADERS before any listener runs (so before any core call).

A refused slash command is answered in its ack (ephemeral, no outbound call); a refused button through its
response_url; a refused modal submission inline in the form. The refusal names the TRADERS entry
(`slack:<team>:<user>`) that would admit the user. Events (coach @mentions and thread replies) are checked by
the coach itself (`bots.slack.coach`), which answers in the thread. Listeners register their action ids through
`block_action`, so a button without a policy cannot be registered.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Collection
from typing import Any

import structlog
from slack_bolt import BoltResponse

from bots.slack.blocks import BROKER_CANCEL, CHIP_ACTION, ORDER_CANCEL, ORDER_CONFIRM, POSITION_ACTION
from bots.slack.blocks_actions import PLAN_TAKE
from bots.slack.blocks_coach import COACH_ALERT, COACH_ORDER
from bots.slack.blocks_picks import PICK_ACTION
from bots.slack.options import OPTION_TAKE
from bots.slack.order_modal import ORDER_MODAL
from core.domain.access import Action, is_allowed, refusal

log = structlog.get_logger("bots.slack.access")

# `/ta <name> [<verb> ...]`: one action per name, or per verb (the first verb is the default when none is given;
# "*" stands for any other second word, e.g. the symbol of `/ta options SPY`)
SUBCOMMAND_ACTIONS: dict[str, Action | dict[str, Action]] = {
    "help": Action.HELP,
    "quote": Action.MARKET_READ,
    "news": Action.MARKET_READ,
    "earnings": Action.MARKET_READ,
    "options": {"*": Action.MARKET_READ, "express": Action.ACCOUNT_READ},
    "picks": Action.MARKET_READ,  # express sizes from the broker's equity
    "status": Action.STATUS,
    "plan": Action.CALCULATE,
    "size": Action.CALCULATE,
    "risk": Action.ACCOUNT_READ,
    "positions": Action.ACCOUNT_READ,
    "orders": Action.ACCOUNT_READ,
    "order": Action.ORDER_PROPOSE,
    "coach": Action.COACH,
    "watch": {"list": Action.WATCHLIST_READ, "add": Action.WATCHLIST_WRITE, "remove": Action.WATCHLIST_WRITE},
    "alert": {"list": Action.ALERT_READ, "add": Action.ALERT_WRITE, "remove": Action.ALERT_WRITE,
              "snooze": Action.ALERT_WRITE},
    "journal": {"list": Action.JOURNAL_READ, "export": Action.JOURNAL_READ, "add": Action.JOURNAL_WRITE},
    "settings": {"show": Action.SETTINGS_READ, "set": Action.SETTINGS_WRITE},
}
# button action ids: the exact id (`pick:take`), else the family before `:`
BLOCK_ACTIONS: dict[str, Action] = {
    ORDER_CONFIRM: Action.ORDER_CONFIRM,
    ORDER_CANCEL: Action.ORDER_CANCEL,
    POSITION_ACTION: Action.ORDER_PROPOSE,
    BROKER_CANCEL: Action.ORDER_CANCEL,
    CHIP_ACTION: Action.ORDER_PROPOSE,  # a chip proposes an order, snoozes or dismisses its alert
    PLAN_TAKE: Action.ORDER_PROPOSE,
    COACH_ORDER: Action.ORDER_PROPOSE,
    COACH_ALERT: Action.ALERT_WRITE,
    f"{PICK_ACTION}:alert": Action.ALERT_WRITE,
    f"{PICK_ACTION}:take": Action.ORDER_PROPOSE,
    f"{PICK_ACTION}:why": Action.COACH,
    OPTION_TAKE: Action.ORDER_PROPOSE,
}
VIEW_ACTIONS: dict[str, Action] = {ORDER_MODAL: Action.ORDER_PROPOSE}
FORM_ERROR_BLOCK = "quantity"  # a block every guarded modal has, to show the refusal under
FORM_ERROR_LIMIT = 150


def block_action(key: str) -> re.Pattern[str]:
    """The listener pattern of a button family (`key` or `key:<anything>`); KeyError when it has no policy."""
    if key not in BLOCK_ACTIONS:
        raise KeyError(f"button {key!r} has no entry in BLOCK_ACTIONS: say which core.domain.access.Action it is")
    return re.compile(f"^{re.escape(key)}(?::.*)?$")


def subcommand_action(text: str) -> Action | None:
    """The action of a `/ta` text; None (trader only) for a name or verb without one."""
    words = text.lower().split()
    if not words:
        return Action.HELP
    entry = SUBCOMMAND_ACTIONS.get(words[0])
    if not isinstance(entry, dict):
        return entry
    return entry.get(words[1], entry.get("*")) if len(words) > 1 else next(iter(entry.values()))


def request_action(body: dict[str, Any]) -> tuple[bool, Action | None]:
    """(guarded, action) of a request: slash commands, buttons and modal submissions are guarded; events and
    everything else pass (the coach checks its own events)."""
    if body.get("command"):
        return True, subcommand_action(str(body.get("text") or ""))
    kind = body.get("type")
    if kind == "block_actions":
        actions = body.get("actions") or [{}]
        action_id = str(actions[0].get("action_id") or "")
        return True, BLOCK_ACTIONS.get(action_id, BLOCK_ACTIONS.get(action_id.split(":", 1)[0]))
    if kind == "view_submission":
        return True, VIEW_ACTIONS.get(str((body.get("view") or {}).get("callback_id") or ""))
    return False, None


def slack_actor(body: dict[str, Any]) -> str:
    """`slack:<team>:<user>` from a command or interaction payload (the form TRADERS lists)."""
    user = body.get("user") or {}
    user_id = body.get("user_id") or user.get("id") or ""
    team = body.get("team_id") or user.get("team_id") or (body.get("team") or {}).get("id") or ""
    return f"slack:{team}:{user_id}"


def trader_middleware(traders: Collection[str]) -> Callable[..., Awaitable[Any]]:
    """The Bolt middleware: next() for an allowed request, else the refusal as the request's answer."""

    async def deny_non_traders(body: dict[str, Any], respond: Callable[..., Awaitable[Any]] | None,
                               next: Callable[[], Awaitable[Any]]) -> Any:
        guarded, action = request_action(body) if isinstance(body, dict) else (False, None)
        actor = slack_actor(body) if guarded else ""
        if not guarded or is_allowed(action, actor, traders):
            return await next()
        text = refusal(action, actor)
        log.info("slack.refused_non_trader", actor=actor, action=action.value if action else None)
        if body.get("command"):
            return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
        if body.get("type") == "view_submission":
            return BoltResponse(status=200, body={"response_action": "errors",
                                                  "errors": {FORM_ERROR_BLOCK: text[:FORM_ERROR_LIMIT]}})
        if respond is not None:  # a click on a message has a response_url; elsewhere the refusal is only logged
            await respond(text=text, response_type="ephemeral", replace_original=False)
        return BoltResponse(status=200, body="")

    return deny_non_traders
