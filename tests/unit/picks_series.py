"""Hand-built minute-bar series for the setup tests: a regular session on a fixed date, bar by bar."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from core.domain.setups.session import MINUTE_MS, History, MinuteBar, SessionState, session_open_ms

DAY = date(2024, 3, 5)  # a Tuesday
OPEN_MS = session_open_ms(DAY)

Row = tuple[float, float, float, float, float]  # open, high, low, close, volume


def minute_bars(rows: Sequence[Row], *, day: date = DAY, first_minute: int = 0) -> list[MinuteBar]:
    start = session_open_ms(day) + first_minute * MINUTE_MS
    return [MinuteBar(start + i * MINUTE_MS, *row) for i, row in enumerate(rows)]


def fold(rows: Sequence[Row], history: History | None = None, symbol: str = "TEST") -> SessionState:
    state = SessionState(symbol, history or History())
    for bar in minute_bars(rows):
        assert state.add(bar)
    return state


def flat(n: int, price: float = 100.0, spread: float = 0.5, volume: float = 1000) -> list[Row]:
    """n quiet bars around `price`."""
    return [(price, price + spread, price - spread, price, volume)] * n


def history(prior_high: float = float("nan"), prior_low: float = float("nan"), prior_close: float = float("nan"),
            minute_volume: float = 1000.0) -> History:
    h = History()
    h.add_session(prior_high, prior_low, prior_close, [minute_volume] * 390, minute_volume * 390 * 100)
    return h
