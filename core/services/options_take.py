"""Take an option contract from a bot's button: the button carries only the contract (OCC symbol) and a count;
the order is built here from the contract's live quote at the moment of the click (a limit at the mid, on the
option tick) and proposed through OrderService, so the trader confirms it like any other order."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from core.domain.orders import OrderClass, OrderRequest, OrderSide, OrderType, tick_size, validate_order_request
from core.domain.position_actions import OptionSymbol
from core.errors import Invalid
from core.services.options import OptionsService
from core.services.orders import OrderService, ProposeResult

MAX_TAKE_CONTRACTS = 1000


def mid_limit(bid: Decimal | None, ask: Decimal | None, option_symbol: str) -> Decimal:
    """The mid of a two-sided quote, rounded to the option tick; refused when the quote is not two-sided."""
    if bid is None or ask is None or bid <= 0 or ask < bid:
        raise Invalid(f"{option_symbol} has no two-sided quote now (bid {bid}, ask {ask}); try again when it "
                      "trades, or enter a limit price with /order", details={"field": "price"})
    mid = (bid + ask) / 2
    tick = tick_size(mid, option=True)
    return (mid / tick).quantize(Decimal(1), ROUND_HALF_UP) * tick


class OptionTakes:
    def __init__(self, options: OptionsService, orders: OrderService) -> None:
        self._options, self._orders = options, orders

    async def propose(self, actor: str, option_symbol: str, contracts: int, *, source: str) -> ProposeResult:
        """Buy `contracts` of `option_symbol` to open, limit at its live mid."""
        parsed = OptionSymbol.parse(option_symbol)
        if parsed is None:
            raise Invalid(f"'{option_symbol}' is not an OCC option symbol", details={"field": "option_symbol"})
        if not 1 <= contracts <= MAX_TAKE_CONTRACTS:
            raise Invalid(f"contracts must be 1-{MAX_TAKE_CONTRACTS}", details={"field": "quantity"})
        quote = await self._options.contract_quote(option_symbol)
        price = mid_limit(quote.bid, quote.ask, option_symbol)
        order = OrderRequest(symbol=parsed.root, side=OrderSide.BUY_TO_OPEN, quantity=Decimal(contracts),
                             type=OrderType.LIMIT, order_class=OrderClass.OPTION, price=price,
                             option_symbol=option_symbol)
        validate_order_request(order)
        rationale = f"take {contracts} x {option_symbol} at the mid {price} (bid {quote.bid}, ask {quote.ask})"
        return await self._orders.propose(actor, order, rationale=rationale, source=source)
