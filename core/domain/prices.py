"""Live prices: what the stream knows about one watched symbol, and the `price` event it publishes for it."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from core.domain.events import PriceEvent
from core.domain.market import BarTick, utc_from_epoch

TickHook = Callable[[str, float, float, float, int, bool], None]
"""`(symbol, price, high, low, ts_ms, late)`: a trade (high = low = price) or a bar; `late` for a bar back-filled
after a reconnect (evaluated once: a bar whose start the ring holds already is not passed on)."""


@dataclass(slots=True, eq=False)
class SymbolState:
    """Everything the stream knows about one watched symbol. Bars are kept sorted by start, bounded."""

    symbol: str
    last: float | None = None
    last_ts_ms: int = 0
    bid: float | None = None
    ask: float | None = None
    bid_size: int | None = None
    ask_size: int | None = None
    seen_ms: int = 0
    lag_s: float | None = None
    prev_close: Decimal | None = None
    gaps: deque[int] = field(default_factory=lambda: deque(maxlen=64))
    seconds: list[BarTick] = field(default_factory=list)
    minutes: list[BarTick] = field(default_factory=list)


def price_event(state: SymbolState) -> PriceEvent:
    """The bus event for one symbol; change is against the previous close when known (never invented).

    Runs for every published tick, so it formats floats (shortest repr; change rounded to 4 places, percent
    to 2) instead of going through Decimal."""
    last = state.last
    assert last is not None
    change = change_pct = None
    if state.prev_close:
        prev = float(state.prev_close)
        change, change_pct = repr(round(last - prev, 4)), f"{(last - prev) / prev * 100:.2f}"
    return PriceEvent(symbol=state.symbol, last=repr(last),
                      bid=None if state.bid is None else repr(state.bid),
                      ask=None if state.ask is None else repr(state.ask), change=change, change_pct=change_pct,
                      as_of=utc_from_epoch(state.last_ts_ms, "ms").isoformat(timespec="milliseconds")
                      if state.last_ts_ms else None)
