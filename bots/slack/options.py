"""`/ta options SYM [YYYY-MM-DD]` and `/ta options express SYM long|short ENTRY STOP [T1 T2 T3]`: parse the words,
one OptionsService call, render with the text shared with the Discord bot."""

from __future__ import annotations

from datetime import date

from bots.options_text import chain_text, express_text
from core.domain.options_express import ExpressPrefs, StockPlan
from core.errors import Invalid
from core.runtime import Runtime

CHAIN_USAGE = "options takes SYM [YYYY-MM-DD], e.g. `/ta options SPY 2026-12-18`"
EXPRESS_USAGE = "options express takes SYM long|short ENTRY STOP [T1 T2 T3], e.g. `/ta options express AAPL long " \
                "190 188 194`"


def _number(raw: str, name: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise Invalid(f"{name} must be a price, got {raw!r}; {EXPRESS_USAGE}", details={"field": name}) from None


async def options_chain_reply(runtime: Runtime, args: list[str]) -> str:
    if len(args) not in (1, 2):
        raise Invalid(CHAIN_USAGE, details={"field": "symbol"})
    try:
        expiration = date.fromisoformat(args[1]) if len(args) == 2 else None
    except ValueError:
        raise Invalid(f"expiration must be a date like 2026-12-18; {CHAIN_USAGE}",
                      details={"field": "expiration"}) from None
    return chain_text(await runtime.options.chain(args[0], expiration))


async def options_express_reply(runtime: Runtime, args: list[str]) -> str:
    if not 4 <= len(args) <= 7 or args[1].lower() not in ("long", "short"):
        raise Invalid(EXPRESS_USAGE, details={"field": "side"})
    symbol, side, entry, stop, *targets = args
    plan = StockPlan(side="long" if side.lower() == "long" else "short", entry=_number(entry, "entry"),
                     stop=_number(stop, "stop"), targets=tuple(_number(t, "targets") for t in targets))
    return express_text(await runtime.options.express(symbol, plan, ExpressPrefs()))
