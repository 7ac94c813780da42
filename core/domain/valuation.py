"""What an order is worth at its worst case, and whether its prices are sane against the market.

An order's own limit or stop price says little about what it will cost: `sell_short 1000 AAPL limit 0.01` fills
at the market, not at one cent. So a single-leg order is valued per unit at the highest price it can fill at (the
value of the position it opens grows with that price, long or short), and never below the fresh quote Q:

    type        buy side (buy, buy_to_cover,            sell side (sell, sell_short,
                buy_to_open, buy_to_close)              sell_to_open, sell_to_close)
    market      Q                                       Q
    limit L     max(L, Q): a marketable limit fills at   max(L, Q): a marketable limit (L <= Q) fills at
                Q but may pay up to L; a resting one     the market; a resting one (L > Q) fills at L or
                is valued at the market it waits under   better, i.e. higher
    stop S      max(S, Q): triggers at S (at once when   Q: triggers when the price falls to S (at once
                S <= Q), then fills at the market        when S >= Q) and fills at the market, at most Q
    stop_limit  max(S, L, Q): triggers at S, then pays   max(L, Q): after the trigger it fills at L or
                up to L                                  better

A multileg order is valued at its net debit or credit (`price`, per contract): a debit is the most it pays. It
has no single quote, so it has no collar either, and one without a net price (market, even) cannot be valued.

A bracket (oto, otoco) is valued by its entry leg like any single-leg order; its stop-loss bounds what it can
lose (`bracket_loss`): from the worst-case entry for a buy, from the entry's own price for a sell (a short entry
fills at its price or higher), to the stop.

Prices are checked against the same quote: a limit or stop more than `collar_pct` % away from it is refused
(`collar_denial`), since that is a typo far more often than a plan.
"""

from __future__ import annotations

from decimal import Decimal

from core.domain.numbers import fmt_num
from core.domain.orders import OrderClass, OrderRequest, OrderType, bracket_entry, contract_multiplier

DEFAULT_COLLAR_PCT = Decimal(10)


def worst_case_price(order: OrderRequest, quote: Decimal | None) -> Decimal | None:
    """The per-unit price to value `order` at (the table above), or None when it cannot be valued: a single-leg
    order without a fresh quote, a multileg order without a net price."""
    if order.order_class is OrderClass.MULTILEG:
        return order.price
    if quote is None:
        return None
    candidates = [quote]
    if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and order.price is not None:
        candidates.append(order.price)
    if order.side.is_buy and order.type in (OrderType.STOP, OrderType.STOP_LIMIT) and order.stop is not None:
        candidates.append(order.stop)
    return max(candidates)


def collar_denial(order: OrderRequest, quote: Decimal, collar_pct: Decimal) -> str | None:
    """Why `order`'s limit or stop price is refused (more than `collar_pct` % from `quote`), or None."""
    if order.order_class is OrderClass.MULTILEG or quote <= 0:
        return None
    for name, value in (("limit price", order.price), ("stop price", order.stop)):
        if value is None:
            continue
        distance = abs(value - quote) / quote * 100
        if distance > collar_pct:
            where = "above" if value > quote else "below"
            return (f"the {name} {fmt_num(value)} is {fmt_num(distance.quantize(Decimal('0.01')))}% {where} the "
                    f"market {fmt_num(quote)}, beyond the {fmt_num(collar_pct)}% collar "
                    "(ORDER_PRICE_COLLAR_PCT); check the price, or use a market order")
    return None


def bracket_loss(order: OrderRequest, worst_entry: Decimal) -> Decimal | None:
    """Dollars lost if a bracket's entry fills and then its stop-loss does; None for an order without one."""
    entry = worst_entry if order.side.is_buy else bracket_entry(order)
    if not order.order_class.is_bracket or order.stop_loss is None or entry is None:
        return None
    per_unit = max(entry - order.stop_loss if order.side.is_buy else order.stop_loss - entry, Decimal(0))
    return (per_unit * order.quantity * contract_multiplier(order.option_symbol or order.symbol)).quantize(
        Decimal("0.01"))
