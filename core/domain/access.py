"""Who may do what: the one access policy every surface (REST, Discord, Slack) enforces.

Deny by default: an action needs a trader (an actor listed in TRADERS: `api`, `discord:<user id>`,
`slack:<team>:<user>`) unless it is listed as public here. Public are the market data and the calculators, which
neither read the account nor change anything; everything that reads the account (positions, orders, P&L, risk,
journal, alerts, settings) or changes state (orders, alerts, watchlist, journal, settings, coach turns, which
draft orders and read positions) needs a trader. Each surface maps each of its commands, buttons and routes to
one `Action`, and a test checks that every command and route has one.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum

from core.errors import Forbidden, Invalid


class Access(StrEnum):
    PUBLIC = "public"
    TRADER = "trader"


class Action(StrEnum):
    """What a command does, with the words a refusal uses ("Only traders may <what>")."""

    HELP = "help"
    STATUS = "status"
    MARKET_READ = "market.read"
    CALCULATE = "plan.calculate"
    ACCOUNT_READ = "account.read"
    ORDER_PROPOSE = "order.propose"
    ORDER_CONFIRM = "order.confirm"
    ORDER_CANCEL = "order.cancel"
    ALERT_READ = "alert.read"
    ALERT_WRITE = "alert.write"
    WATCHLIST_READ = "watchlist.read"
    WATCHLIST_WRITE = "watchlist.write"
    JOURNAL_READ = "journal.read"
    JOURNAL_WRITE = "journal.write"
    SETTINGS_READ = "settings.read"
    SETTINGS_WRITE = "settings.write"
    COACH = "coach"


POLICY: dict[Action, Access] = {
    Action.HELP: Access.PUBLIC,
    Action.STATUS: Access.PUBLIC,
    Action.MARKET_READ: Access.PUBLIC,
    Action.CALCULATE: Access.PUBLIC,
    Action.ACCOUNT_READ: Access.TRADER,
    Action.ORDER_PROPOSE: Access.TRADER,
    Action.ORDER_CONFIRM: Access.TRADER,
    Action.ORDER_CANCEL: Access.TRADER,
    Action.ALERT_READ: Access.TRADER,
    Action.ALERT_WRITE: Access.TRADER,
    Action.WATCHLIST_READ: Access.TRADER,
    Action.WATCHLIST_WRITE: Access.TRADER,
    Action.JOURNAL_READ: Access.TRADER,
    Action.JOURNAL_WRITE: Access.TRADER,
    Action.SETTINGS_READ: Access.TRADER,
    Action.SETTINGS_WRITE: Access.TRADER,
    Action.COACH: Access.TRADER,
}

_WHAT: dict[Action, str] = {
    Action.ACCOUNT_READ: "see the account (positions, orders, P&L, risk)",
    Action.ORDER_PROPOSE: "propose orders",
    Action.ORDER_CONFIRM: "confirm orders",
    Action.ORDER_CANCEL: "cancel orders",
    Action.ALERT_READ: "see the alerts",
    Action.ALERT_WRITE: "create, change or remove alerts",
    Action.WATCHLIST_READ: "see the watchlist",
    Action.WATCHLIST_WRITE: "change the watchlist",
    Action.JOURNAL_READ: "read or export the journal",
    Action.JOURNAL_WRITE: "write the journal",
    Action.SETTINGS_READ: "see the settings",
    Action.SETTINGS_WRITE: "change settings",
    Action.COACH: "talk to the coach (it reads the account and drafts orders)",
}


def needs_trader(action: Action | None) -> bool:
    """True unless the policy lists `action` as public (None, a command nobody mapped, needs a trader)."""
    return action is None or POLICY.get(action, Access.TRADER) is not Access.PUBLIC


def is_allowed(action: Action | None, actor: str, traders: Collection[str]) -> bool:
    return not needs_trader(action) or actor in traders


def refusal(action: Action | None, actor: str) -> str:
    """Why `actor` is refused, and which TRADERS entry would admit them."""
    what = _WHAT.get(action, "do this") if action is not None else "do this"
    return (f"Only the users listed in TRADERS may {what}; nothing was done. To be admitted, ask an admin to add "
            f"`{actor}` to TRADERS. Anyone may read market data and use the plan and size calculators.")


def check_account_read(actor: str, traders: Collection[str], *, instead: str) -> None:
    """The calculators are public, but sizing against the broker's equity reads the account: Forbidden for a
    non-trader, saying what to do `instead` (e.g. give the equity)."""
    if not is_allowed(Action.ACCOUNT_READ, actor, traders):
        raise Forbidden(f"{refusal(Action.ACCOUNT_READ, actor)} {instead}",
                        details={"action": Action.ACCOUNT_READ.value, "actor": actor})


def watchlist_scope_allowed(actor: str, traders: Collection[str], command: str) -> None:
    """Public market-data commands default to the watchlist, which only traders may see: anyone else is asked for
    a symbol (Invalid, a usage hint, not a refusal: the command itself is public)."""
    if not is_allowed(Action.WATCHLIST_READ, actor, traders):
        raise Invalid(f"name a symbol, e.g. `{command} AAPL`: the watchlist is shown to traders only",
                      details={"field": "symbol"})


def check(action: Action | None, actor: str, traders: Collection[str]) -> None:
    """Raise Forbidden (with `refusal`) unless `actor` may do `action`."""
    if not is_allowed(action, actor, traders):
        raise Forbidden(refusal(action, actor), details={"action": action.value if action else None, "actor": actor})
