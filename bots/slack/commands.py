"""`/ta <subcommand>`: parse the text, make one core call, render with `blocks`. Core errors propagate to the
listener, which maps them to a user message in one place (`blocks.error_text`)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import orjson

from bots.slack import blocks as bk
from bots.slack import blocks_news, blocks_picks, blocks_plan
from bots.slack.blocks_actions import outcome_blocks, plan_take_block
from bots.slack.options import options_chain_reply, options_express_reply, parse_take
from core.domain.access import Action, check_account_read, is_allowed, watchlist_scope_allowed
from core.domain.action_refs import ActionRef, Target
from core.domain.journal import JournalDraft, JournalQuery
from core.domain.news import ET
from core.domain.order_input import parse_order
from core.domain.setups.rules import SETUPS
from core.domain.symbols import normalize_symbol
from core.errors import Invalid
from core.runtime import Runtime
from core.services.action_outcome import ActionOutcome
from core.services.orders import ProposeResult
from core.services.plans import invalid_from_issues
from core.services.risk_now import risk_state_now
from core.services.validation import parse

HELP = ("Usage: `/ta quote SPY` · `/ta watch add|remove SYM` · `/ta watch list` · "
        "`/ta alert add SYM above|below LEVEL` · `/ta alert list` · `/ta alert remove ID` · "
        "`/ta alert snooze ID [MINUTES]` · `/ta risk` · `/ta status` · "
        "`/ta order` (a form) or `/ta order buy|sell|sell_short|buy_to_cover QTY SYM [market|limit PRICE|stop PRICE] "
        "[day|gtc]` · `/ta positions` · `/ta orders` · `/ta plan SYM long|short ENTRY STOP [T1 T2 T3]` · "
        "`/ta size SYM ENTRY STOP [RISK%]` · `/ta coach QUESTION` (answers in a thread) · "
        "`/ta journal add TEXT [#tag] [$SYM]` · `/ta journal list [SYM]` · `/ta journal export` · "
        "`/ta settings` · `/ta settings set KEY VALUE` · `/ta news [SYM]` · `/ta earnings [SYM]` · "
        "`/ta options SYM [YYYY-MM-DD]` · `/ta options express SYM long|short ENTRY STOP [T1 T2 T3]` · "
        "`/ta picks [N] [SETUP|SYM]`. Everything but quote, status, plan, size, news, earnings, options "
        "and picks needs a trader (TRADERS).")
SNOOZE_MINUTES = 30
ORDER_TYPES = {"market", "limit", "stop"}
DURATIONS = {"day", "gtc", "pre", "post"}
JOURNAL_LIST = 10
NEWS_ITEMS = 8
EARNINGS_DAYS = 14
_TAG = re.compile(r"^#([\w-]{1,40})$")
_SYMBOL = re.compile(r"^\$([A-Za-z][A-Za-z0-9./]{0,20})$")


@dataclass(frozen=True, slots=True)
class Upload:
    """A file the listener uploads (files_upload_v2) to the user's DM with the app before replying."""

    filename: str
    content: bytes
    title: str


@dataclass(frozen=True, slots=True)
class Reply:
    messages: list[bk.Blocks]
    text: str
    response_type: Literal["ephemeral", "in_channel"] = "ephemeral"
    replace_original: bool = False
    upload: Upload | None = None


def _usage(message: str) -> Invalid:
    return Invalid(f"{message}. {HELP}")


def preview_reply(result: ProposeResult) -> Reply:
    """Every order proposal (typed, chip, position button, cancel button) answers with the same preview."""
    return Reply([bk.order_preview_blocks(result)], "Order preview", "ephemeral")


def outcome_reply(outcome: ActionOutcome) -> Reply:
    """Every click executed by the action service (chip, pick, position, plan) answers with its outcome."""
    return Reply([outcome_blocks(outcome)], outcome.message, "ephemeral")


def parse_journal_text(args: list[str]) -> dict[str, Any]:
    """`Took the breakout #setup #a+ $AAPL` -> body (as written), tags, and the one `$SYMBOL`."""
    if not args:
        raise _usage("journal add needs some text")
    tags = [match[1] for word in args if (match := _TAG.match(word))]
    symbols = sorted({match[1].upper() for word in args if (match := _SYMBOL.match(word))})
    if len(symbols) > 1:
        raise _usage(f"a journal entry takes one $SYMBOL, got {', '.join(symbols)}")
    return {"kind": "note", "body": " ".join(args), "tags": tags, "symbol": symbols[0] if symbols else None}


def settings_patch(key: str, raw: str) -> dict[str, Any]:
    """`risk.max_trades_per_day 8` -> `{"risk": {"max_trades_per_day": 8}}`; the value is JSON when it parses
    (numbers, lists, objects), else the text; `watchlist` also takes `SPY,QQQ`. Tunables validates the rest."""
    parts = key.split(".")
    if not all(re.fullmatch(r"[a-z_]{1,40}", part) for part in parts) or len(parts) > 3:
        raise _usage(f"unknown setting {key!r}")
    try:
        value: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        value = raw
    if parts == ["watchlist"] and isinstance(value, str):
        value = [symbol for symbol in value.replace(" ", ",").split(",") if symbol]
    for part in reversed(parts):
        value = {part: value}
    patch: dict[str, Any] = value
    return patch


def parse_order_text(args: list[str]) -> dict[str, Any]:
    """`buy 1 AAPL [limit 430.5] [gtc]` -> the REST order shape (validated by core's parse_order)."""
    if len(args) < 3:
        raise _usage("order needs a side, a quantity and a symbol")
    side, quantity, symbol, *rest = args
    order: dict[str, Any] = {"side": side.lower(), "quantity": quantity, "symbol": symbol, "type": "market"}
    words = [word.lower() for word in rest]
    while words:
        word = words.pop(0)
        if word in ORDER_TYPES:
            order["type"] = word
            if word != "market":
                if not words:
                    raise _usage(f"{word} needs a price")
                order["price" if word == "limit" else "stop"] = words.pop(0)
        elif word in DURATIONS:
            order["duration"] = word
        else:
            raise _usage(f"unexpected {word!r} in the order")
    return order


class SlashCommands:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    async def run(self, actor: str, text: str) -> Reply:
        words = text.split()
        if not words or words[0].lower() == "help":
            return Reply(bk.text_blocks(HELP), "Trading Assistant help")
        name, args = words[0].lower(), words[1:]
        handler = getattr(self, f"do_{name}", None)
        if handler is None:
            raise _usage(f"unknown subcommand {name!r}")
        reply: Reply = await handler(actor, args)
        return reply

    async def do_quote(self, actor: str, args: list[str]) -> Reply:
        if len(args) != 1:
            raise _usage("quote needs one symbol")
        quote = await self.rt.market.quote(args[0].upper())
        return Reply([bk.quote_blocks(quote)], bk.quote_title(quote), "in_channel")

    async def do_watch(self, actor: str, args: list[str]) -> Reply:
        verb = args[0].lower() if args else "list"
        if verb == "list":
            watchlist = (await self.rt.settings_service.get()).watchlist
        elif verb in {"add", "remove"} and len(args) >= 2:
            current = list((await self.rt.settings_service.get()).watchlist)
            symbols = [symbol.upper() for symbol in args[1:]]
            if verb == "add":
                current += [symbol for symbol in symbols if symbol not in current]
            else:
                current = [symbol for symbol in current if symbol not in symbols]
            watchlist = (await self.rt.settings_service.update({"watchlist": current}, actor=actor)).watchlist
        else:
            raise _usage("watch takes add SYM, remove SYM or list")
        return Reply(bk.lines_blocks("Watchlist", [", ".join(watchlist)], "The watchlist is empty."), "Watchlist")

    async def do_alert(self, actor: str, args: list[str]) -> Reply:
        verb = args[0].lower() if args else "list"
        if verb == "list":
            alerts = await self.rt.alerts.list()
            return Reply(bk.lines_blocks("Alerts", [bk.alert_line(a) for a in alerts], "No alerts."), "Alerts")
        if verb == "add" and len(args) == 4 and args[2].lower() in {"above", "below"}:
            body = {"symbol": args[1].upper(), "condition": f"price_{args[2].lower()}", "level": args[3],
                    "channels": ["slack"]}
            alert = await self.rt.alerts.create(body, actor=actor)
            notes = [bk.alert_line(alert), *alert.warnings]
            title = "Alert exists already" if alert.duplicate else "Alert created"
            return Reply(bk.lines_blocks(title, notes, ""), title)
        if verb == "remove" and len(args) == 2:
            await self.rt.alerts.delete(args[1])
            return Reply(bk.text_blocks(f"Alert `{args[1]}` removed."), "Alert removed")
        if verb == "snooze" and len(args) in (2, 3):
            if len(args) == 3 and not args[2].isdigit():
                raise _usage(f"snooze minutes must be a whole number, got {args[2]!r}")
            minutes = int(args[2]) if len(args) == 3 else SNOOZE_MINUTES
            snoozed = await self.rt.alerts.snooze(args[1], minutes=minutes)
            return Reply(bk.lines_blocks(f"Alert snoozed for {minutes} min", [bk.alert_line(snoozed)], ""),
                         "Alert snoozed")
        raise _usage("alert takes add SYM above|below LEVEL, list, remove ID or snooze ID [MINUTES]")

    async def do_risk(self, actor: str, args: list[str]) -> Reply:
        return Reply([bk.risk_blocks(await risk_state_now(self.rt.risk))], "Risk state")

    async def do_status(self, actor: str, args: list[str]) -> Reply:
        return Reply([bk.status_blocks(self.rt.integrations())], "Status")

    async def do_order(self, actor: str, args: list[str]) -> Reply:
        order = parse_order(parse_order_text(args))
        return preview_reply(await self.rt.orders.propose(actor, order, source="slack"))

    async def do_positions(self, actor: str, args: list[str]) -> Reply:
        return Reply(bk.positions_blocks(await self.rt.account.positions()), "Open positions")

    async def do_orders(self, actor: str, args: list[str]) -> Reply:
        return Reply(bk.broker_orders_blocks(await self.rt.account.broker_orders()), "Today's orders")

    async def do_journal(self, actor: str, args: list[str]) -> Reply:
        verb = args[0].lower() if args else "list"
        if verb == "add":
            draft = parse(JournalDraft, parse_journal_text(args[1:]), "journal entry")
            entry = await self.rt.journal.add(draft, actor=actor)
            return Reply(bk.lines_blocks("Journal entry added", [bk.journal_line(entry)], ""), "Journal entry added")
        if verb == "list" and len(args) <= 2:
            symbol = args[1].lstrip("$") if len(args) == 2 else None
            query = parse(JournalQuery, {"limit": JOURNAL_LIST, "symbol": symbol}, "journal query")
            page = await self.rt.journal.list(query)
            lines = [bk.journal_line(entry) for entry in page.items]
            return Reply(bk.lines_blocks(f"Journal (latest {JOURNAL_LIST})", lines, "The journal is empty."),
                         "Journal")
        if verb == "export" and len(args) <= 2:
            symbol = args[1].lstrip("$") if len(args) == 2 else None
            query = parse(JournalQuery, {"symbol": symbol}, "journal query")
            body, _ = await self.rt.journal.export(query, "csv")
            rows = sum(1 for _ in csv.reader(io.StringIO(body.decode()))) - 1  # quoted bodies may hold newlines
            name = f"journal-{symbol.upper() + '-' if symbol else ''}{datetime.now(UTC):%Y%m%d-%H%M%S}.csv"
            return Reply(bk.text_blocks(f"Journal export: {rows} entries, sent to your DM with the app as `{name}`."),
                         "Journal exported", upload=Upload(name, body, f"Journal export ({rows} entries)"))
        raise _usage("journal takes add TEXT [#tag] [$SYM], list [SYM] or export [SYM]")

    async def do_plan(self, actor: str, args: list[str]) -> Reply:
        if not 4 <= len(args) <= 7 or args[1].lower() not in {"long", "short"}:
            raise _usage("plan takes SYM long|short ENTRY STOP [T1 T2 T3]")
        symbol, side, entry, stop, *targets = args
        check = await self.rt.plans.validate(side=side.lower(), entry=entry, stop=stop, targets=targets,
                                             symbol=symbol.upper())
        if not check.result.ok or check.result.plan is None:
            raise invalid_from_issues(check.result.errors, "plan")
        # the calculator is public; the sizing and the Take button read the account
        offer = await self.rt.plans.offer(check, account=is_allowed(Action.ACCOUNT_READ, actor,
                                                                     self.rt.settings.traders))
        take = plan_take_block(check.result.plan) if offer.take else []
        return Reply([blocks_plan.plan_blocks(offer) + take], check.result.summary)

    async def do_size(self, actor: str, args: list[str]) -> Reply:
        if len(args) not in (3, 4):
            raise _usage("size takes SYM ENTRY STOP [RISK%]")
        symbol, entry, stop, *risk = args
        check_account_read(actor, self.rt.settings.traders, instead="Use `/ta plan` for the R:R and R bands.")
        check = await self.rt.plans.size(entry=entry, stop=stop, symbol=symbol.upper(),
                                         risk_per_trade_pct=risk[0].rstrip("%") if risk else None)
        if not check.result.ok:
            raise invalid_from_issues(check.result.errors, "sizing")
        return Reply([blocks_plan.sizing_blocks(check)], check.result.summary)

    async def do_options(self, actor: str, args: list[str]) -> Reply:
        if args and args[0].lower() == "express":
            return Reply(*await options_express_reply(self.rt, args[1:]))
        text = await options_chain_reply(self.rt, args)
        return Reply(bk.text_blocks(text), text.splitlines()[0])

    async def do_settings(self, actor: str, args: list[str]) -> Reply:
        if not args or (args[0].lower() == "show" and len(args) == 1):
            tunables = await self.rt.settings_service.get()
            return Reply(blocks_plan.settings_blocks(tunables.model_dump(mode="json")), "Settings")
        if args[0].lower() != "set" or len(args) < 3:
            raise _usage("settings takes show, or set KEY VALUE")
        key, raw = args[1].lower(), " ".join(args[2:])
        updated = await self.rt.settings_service.update(settings_patch(key, raw), actor=actor)
        value: Any = updated.model_dump(mode="json")
        for part in key.split("."):
            value = value[part]
        return Reply(bk.text_blocks(f"Setting `{key}` is now `{bk.escape(orjson.dumps(value).decode())}`."),
                     "Setting changed")

    async def _scope(self, actor: str, args: list[str], what: str) -> tuple[list[str], str]:
        if len(args) > 1:
            raise _usage(f"{what} takes at most one symbol")
        if args:
            symbol = normalize_symbol(args[0].lstrip("$"))
            return [symbol], symbol
        watchlist_scope_allowed(actor, self.rt.settings.traders, f"/ta {what}")
        return list((await self.rt.settings_service.get()).watchlist), "the watchlist"

    async def do_news(self, actor: str, args: list[str]) -> Reply:
        symbols, scope = await self._scope(actor, args, "news")
        page = await self.rt.news.page(symbols=symbols, limit=NEWS_ITEMS)
        return Reply(blocks_news.news_blocks(page, scope), f"News: {scope}", "in_channel")

    async def do_earnings(self, actor: str, args: list[str]) -> Reply:
        symbols, scope = await self._scope(actor, args, "earnings")
        today = datetime.now(ET).date()
        answer = await self.rt.news.earnings(symbols, today, today + timedelta(days=EARNINGS_DAYS))
        return Reply(blocks_news.earnings_blocks(answer, scope, EARNINGS_DAYS), f"Earnings: {scope}", "in_channel")

    async def do_picks(self, actor: str, args: list[str]) -> Reply:
        """`/ta picks [N] [SETUP|SYM]`: public market data, anyone may read it."""
        limit, setup, symbol = 5, None, None
        for word in args:
            if word.isdigit():
                limit = int(word)
            elif word.lower() in SETUPS:
                setup = word.lower()
            else:
                symbol = word.upper()
        page = await self.rt.picks.top(limit=min(limit, blocks_picks.MAX_CARDS), setup=setup, symbol=symbol,
                                       sized=actor in self.rt.settings.traders)
        return Reply([blocks_picks.picks_blocks(page.items, page.universe)], f"Top picks ({len(page.items)})")

    async def take_option(self, actor: str, value: str) -> Reply:
        """An options Take button: the contract's live mid as a limit, answered with the order preview."""
        bought, sold, count = parse_take(value)
        return preview_reply(await self.rt.option_takes.propose(actor, bought, count, sell_symbol=sold,
                                                                source="slack"))

    async def pick_action(self, actor: str, verb: str, pick_id: str) -> Reply:
        """A pick card's button, the actor already checked by the access middleware: alert at the trigger,
        take the setup (a bracket preview), or explain (a coach turn about the pick)."""
        if verb in ("take", "alert"):
            return await self.action(actor, ActionRef(Target.PICK, verb, pick_id))
        reply = await self.rt.picks.explain(pick_id, actor=actor)
        return Reply(bk.text_blocks(reply.content or "(no answer)"), "Coach on this pick")


    # -- button clicks (same shape: one proposal, answered with the order preview) ----------------------------

    async def action(self, actor: str, ref: ActionRef) -> Reply:
        """A button that refers to a chip, pick, position or plan: the action service executes it."""
        return outcome_reply(await self.rt.actions.execute(actor, ref, source="slack"))

    async def position_action(self, actor: str, symbol: str, action: str) -> Reply:
        """A position button: one proposal for the live position, answered with the order preview."""
        return await self.action(actor, ActionRef(Target.POSITION, action, symbol))

    async def review_intent(self, intent_id: str, token: str) -> Reply:
        """A coach-drafted intent's button: the standard preview while it awaits confirmation, else its outcome."""
        intent = await self.rt.orders.get_intent(intent_id)
        if intent.status != "PENDING":
            return Reply([bk.order_outcome_blocks(intent)], f"Order {intent.status.lower()}")
        return preview_reply(ProposeResult(intent, intent.preview, intent.risk, token, intent.mode))

    async def create_alert(self, actor: str, draft: dict[str, Any]) -> Reply:
        """A coach alert draft's button: the alert, delivered to Slack (AlertService validates the draft)."""
        alert = await self.rt.alerts.create({**draft, "channels": ["slack"]}, actor=actor)
        title = "Alert exists already" if alert.duplicate else "Alert created"
        return Reply(bk.lines_blocks(title, [bk.alert_line(alert)], ""), title)

    async def cancel_order(self, actor: str, order_id: str) -> Reply:
        return preview_reply(await self.rt.orders.propose_cancel(actor, order_id, source="slack:cancel"))
