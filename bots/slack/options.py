"""`/ta options SYM [YYYY-MM-DD]` and `/ta options express SYM long|short ENTRY STOP [T1 T2 T3]`: parse the words,
one OptionsService call, render with the text shared with the Discord bot; each single-contract candidate gets a
Take button whose value is the contract and count (`OCC:count`), never a price."""

from __future__ import annotations

from datetime import date

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, PlainTextObject

from bots.options_text import chain_text, express_text
from bots.slack import blocks as bk
from core.domain.options_express import ExpressPrefs, StockPlan
from core.errors import Invalid
from core.runtime import Runtime
from core.services.options import ExpressResult

OPTION_TAKE = "option_take"  # action ids `option_take:<n>`, value `OCC:count` or (a vertical) `BUY+SELL:count`
BUTTONS_PER_BLOCK = 25

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


def take_block(result: ExpressResult) -> bk.Blocks:
    """The Take buttons of the candidates sized to at least one contract (none: no block)."""
    buttons = []
    for index, candidate in enumerate(result.candidates):
        if candidate.contracts < 1:
            continue
        legs = "+".join(leg.option_symbol for leg in candidate.legs)
        label = bk.clip(f"Take {candidate.contracts} x {legs.replace('+', ' / ')}", 75)
        buttons.append(ButtonElement(text=PlainTextObject(text=label), action_id=f"{OPTION_TAKE}:{index}",
                                     value=f"{legs}:{candidate.contracts}"))
    if not buttons:
        return []
    return [ActionsBlock(block_id=OPTION_TAKE, elements=buttons[:BUTTONS_PER_BLOCK]).to_dict()]


async def options_express_reply(runtime: Runtime, args: list[str]) -> tuple[list[bk.Blocks], str]:
    """The candidates as text messages, the last one with the Take buttons; and the fallback text."""
    if not 4 <= len(args) <= 7 or args[1].lower() not in ("long", "short"):
        raise Invalid(EXPRESS_USAGE, details={"field": "side"})
    symbol, side, entry, stop, *targets = args
    plan = StockPlan(side="long" if side.lower() == "long" else "short", entry=_number(entry, "entry"),
                     stop=_number(stop, "stop"), targets=tuple(_number(t, "targets") for t in targets))
    result = await runtime.options.express(symbol, plan, ExpressPrefs())
    text = express_text(result)
    messages = bk.text_blocks(text)
    messages[-1] = messages[-1] + take_block(result)
    return messages, text.splitlines()[0]


def parse_take(value: str) -> tuple[str, str | None, int]:
    """A Take button's value (`OCC:count`, `BUY+SELL:count`) -> (contract bought, contract sold or None, count)."""
    legs, _, count = value.partition(":")
    bought, _, sold = legs.partition("+")
    if not bought or not count.isdigit():
        raise Invalid("this Take button carries no contract; run /ta options express again",
                      details={"field": "option_symbol"})
    return bought, sold or None, int(count)
