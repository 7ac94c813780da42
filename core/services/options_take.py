"""Take an option candidate from a bot's button: the button carries only the contract (OCC symbol) or, for a
debit vertical, its bought and sold contracts, and a count; the order is built here from the live quotes at the
moment of the click (a limit at the mid, or the vertical's net debit between the mids, on the option tick) and
proposed through OrderService, so the trader confirms it like any other order."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from core.domain.market import Quote
from core.domain.orders import (
    OrderClass,
    OrderLeg,
    OrderRequest,
    OrderSide,
    OrderType,
    tick_size,
    validate_order_request,
)
from core.domain.position_actions import OptionSymbol
from core.errors import Invalid
from core.services.options import OptionsService
from core.services.orders import OrderService, ProposeResult

MAX_TAKE_CONTRACTS = 1000


def mid(quote: Quote, option_symbol: str) -> Decimal:
    """The mid of a two-sided quote; refused when the quote is not two-sided."""
    bid, ask = quote.bid, quote.ask
    if bid is None or ask is None or bid <= 0 or ask < bid:
        raise Invalid(f"{option_symbol} has no two-sided quote now (bid {bid}, ask {ask}); try again when it "
                      "trades, or enter a limit price with /order", details={"field": "price"})
    return (bid + ask) / 2


def on_tick(price: Decimal) -> Decimal:
    tick = tick_size(price, option=True)
    return (price / tick).quantize(Decimal(1), ROUND_HALF_UP) * tick


def _parsed(option_symbol: str) -> OptionSymbol:
    parsed = OptionSymbol.parse(option_symbol)
    if parsed is None:
        raise Invalid(f"'{option_symbol}' is not an OCC option symbol", details={"field": "option_symbol"})
    return parsed


class OptionTakes:
    def __init__(self, options: OptionsService, orders: OrderService) -> None:
        self._options, self._orders = options, orders

    async def propose(self, actor: str, option_symbol: str, contracts: int, *, sell_symbol: str | None = None,
                      source: str) -> ProposeResult:
        """Buy `contracts` of `option_symbol` to open, limit at its live mid; with `sell_symbol`, a debit
        vertical (buy `option_symbol`, sell `sell_symbol`) as one multileg order at the net of the two mids."""
        parsed = _parsed(option_symbol)
        if not 1 <= contracts <= MAX_TAKE_CONTRACTS:
            raise Invalid(f"contracts must be 1-{MAX_TAKE_CONTRACTS}", details={"field": "quantity"})
        bought = await self._options.contract_quote(option_symbol)
        if sell_symbol is None:
            price = on_tick(mid(bought, option_symbol))
            order = OrderRequest(symbol=parsed.root, side=OrderSide.BUY_TO_OPEN, quantity=Decimal(contracts),
                                 type=OrderType.LIMIT, order_class=OrderClass.OPTION, price=price,
                                 option_symbol=option_symbol)
            rationale = f"take {contracts} x {option_symbol} at the mid {price} (bid {bought.bid}, ask {bought.ask})"
        else:
            if _parsed(sell_symbol).root != parsed.root:
                raise Invalid("both legs of a vertical are on the same underlying", details={"field": "legs"})
            sold = await self._options.contract_quote(sell_symbol)
            price = on_tick(mid(bought, option_symbol) - mid(sold, sell_symbol))
            if price <= 0:
                raise Invalid(f"buying {option_symbol} and selling {sell_symbol} quotes no debit now ({price})",
                              details={"field": "price"})
            order = OrderRequest(
                symbol=parsed.root, side=OrderSide.BUY_TO_OPEN, quantity=Decimal(contracts), type=OrderType.DEBIT,
                order_class=OrderClass.MULTILEG, price=price,
                legs=(OrderLeg(option_symbol, OrderSide.BUY_TO_OPEN, contracts),
                      OrderLeg(sell_symbol, OrderSide.SELL_TO_OPEN, contracts)))
            rationale = (f"take {contracts} x the {option_symbol} / {sell_symbol} debit vertical at the net of the "
                         f"mids {price}")
        validate_order_request(order)
        return await self._orders.propose(actor, order, rationale=rationale, source=source)
