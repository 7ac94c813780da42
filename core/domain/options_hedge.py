"""A protective put for a long stock position: which put, and what it costs and protects, before any order.

The put is the highest listed strike at least `otm_pct` below the stock's price (the cheapest meaningful floor
the trader asked for), bought at its ask, one contract per 100 shares.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import msgspec

from core.domain.options_types import OptionRow
from core.domain.orders import OPTION_MULTIPLIER, Position
from core.errors import Invalid


class HedgeEffect(msgspec.Struct, frozen=True, kw_only=True):
    """Dollars: `cost` is what the puts cost now; `max_loss` the most the hedged shares can lose to expiration
    (price - strike + premium, per share, x shares covered); `unhedged_shares` are left over (not a full 100)."""

    put: OptionRow
    contracts: int
    shares_covered: int
    unhedged_shares: int
    premium: float
    cost: float
    floor: float
    max_loss: float
    breakeven: float


def choose_put(position: Position, price: float, rows: Sequence[OptionRow], otm_pct: float) -> HedgeEffect:
    """The protective put for `position` among `rows` (one expiration's chain), with its dollar effect."""
    if not position.is_long or position.quantity < OPTION_MULTIPLIER:
        raise Invalid(f"a protective put hedges a long stock position of at least {OPTION_MULTIPLIER} shares",
                      details={"field": "position"})
    if not 0 <= otm_pct < 50:
        raise Invalid("otm_pct is how far below the price the floor sits: 0 to 50", details={"field": "otm_pct"})
    ceiling = price * (1 - otm_pct / 100)
    puts = [row for row in rows if row.type == "put" and row.strike <= ceiling and row.ask]
    if not puts:
        raise Invalid(f"no put with an ask at or below {ceiling:.2f} in this expiration; lower otm_pct or pick "
                      "another expiration", details={"field": "otm_pct"})
    put = max(puts, key=lambda row: row.strike)
    contracts = int(position.quantity // OPTION_MULTIPLIER)
    shares = contracts * OPTION_MULTIPLIER
    premium = float(put.ask or 0)
    return HedgeEffect(put=put, contracts=contracts, shares_covered=shares,
                       unhedged_shares=int(position.quantity) - shares, premium=premium,
                       cost=round(premium * shares, 2), floor=put.strike,
                       max_loss=round((price - put.strike + premium) * shares, 2),
                       breakeven=round(price + premium, 2))


def limit_price(effect: HedgeEffect) -> Decimal:
    return Decimal(str(effect.premium)).quantize(Decimal("0.01"))
