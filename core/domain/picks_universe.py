"""The scanner's universe: the watchlist, plus the day's movers that pass the trader's filters when the market
data plan has snapshots."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class SnapshotRow:
    """One ticker of a Polygon stocks snapshot (full market or gainers/losers). Unknown parts are None."""

    symbol: str
    last: Decimal | None
    change_pct: Decimal | None
    day_volume: Decimal | None
    prev_volume: Decimal | None
    prev_vwap: Decimal | None


@dataclass(frozen=True, slots=True)
class UniverseFilter:
    min_price: Decimal
    min_dollar_volume: Decimal
    min_relative_volume: Decimal
    max_symbols: int
    include_movers: bool


@dataclass(frozen=True, slots=True)
class Universe:
    symbols: tuple[str, ...]
    source: str  # "watchlist" or "watchlist+movers"
    reason: str | None = None

    def note(self) -> str:
        """One line for a chat reply: how many symbols were scanned, from where, and why if that is unusual."""
        note = f"Universe: {len(self.symbols)} symbols from {self.source}"
        return f"{note} ({self.reason})" if self.reason else note


def passes(row: SnapshotRow, f: UniverseFilter) -> bool:
    """Price at least `min_price`; the prior day's dollar volume (volume x VWAP) at least `min_dollar_volume`;
    today's volume so far at least `min_relative_volume` x the prior day's."""
    if row.last is None or row.last < f.min_price:
        return False
    if row.prev_volume is None or row.prev_vwap is None or row.prev_volume * row.prev_vwap < f.min_dollar_volume:
        return False
    return row.day_volume is not None and row.prev_volume > 0 and \
        row.day_volume / row.prev_volume >= f.min_relative_volume


def select(watchlist: Sequence[str], movers: Iterable[SnapshotRow] | None, f: UniverseFilter,
           reason: str | None = None) -> Universe:
    """The watchlist first (always, even past `max_symbols`), then the biggest movers that pass, by |change %|.
    `movers` None: snapshots are unavailable and `reason` says why."""
    chosen = list(dict.fromkeys(watchlist))
    if not f.include_movers:
        return Universe(tuple(chosen), "watchlist", "movers are switched off (settings picks_universe)")
    if movers is None:
        return Universe(tuple(chosen), "watchlist", reason)
    seen = set(chosen)
    ranked = sorted((r for r in movers if r.symbol not in seen and passes(r, f)),
                    key=lambda r: abs(r.change_pct) if r.change_pct is not None else Decimal(0), reverse=True)
    for row in ranked:
        if len(chosen) >= f.max_symbols:
            break
        if row.symbol not in seen:
            chosen.append(row.symbol)
            seen.add(row.symbol)
    return Universe(tuple(chosen), "watchlist+movers", reason)
