"""The option screen: which contracts of a chain are liquid and in the trader's delta and DTE window, ranked.

Filters are vectorized over the chain (numpy masks); only the passing contracts get their reason written.
Delta bounds compare |delta|, so one window (e.g. 0.30-0.60) serves calls and puts. Ranking: tightest spread
first, then open interest, then volume.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.domain.options_types import OptionRow, ScreenFilter, ScreenHit


def _column(rows: Sequence[OptionRow], name: str) -> np.ndarray:
    return np.array([np.nan if (v := getattr(row, name)) is None else v for row in rows], dtype=np.float64)


def screen(rows: Sequence[OptionRow], spec: ScreenFilter) -> list[ScreenHit]:
    """Contracts passing every filter in `spec`, best first, at most `spec.limit`."""
    spec.check()
    if not rows:
        return []
    delta, dte = np.abs(_column(rows, "delta")), _column(rows, "dte")
    spread, oi, volume = _column(rows, "spread_pct"), _column(rows, "open_interest"), _column(rows, "volume")
    keep = np.ones(len(rows), dtype=bool)
    if spec.type is not None:
        keep &= np.array([row.type == spec.type for row in rows])
    # NaN compares False: a contract without the number a filter needs does not pass that filter
    for values, low, high in ((delta, spec.delta_min, spec.delta_max), (dte, spec.dte_min, spec.dte_max),
                              (spread, None, spec.max_spread_pct), (oi, spec.min_open_interest, None),
                              (volume, spec.min_volume, None)):
        if low is not None:
            keep &= values >= low
        if high is not None:
            keep &= values <= high
    index = np.flatnonzero(keep)
    order = np.lexsort((-np.nan_to_num(volume[index]), -np.nan_to_num(oi[index]),
                        np.nan_to_num(spread[index], nan=np.inf)))
    return [ScreenHit(rows[i], _reason(rows[i], spec)) for i in index[order][: spec.limit]]


def _reason(row: OptionRow, spec: ScreenFilter) -> str:
    parts = []
    if spec.type is not None:
        parts.append(f"a {row.type}")
    if spec.delta_min is not None or spec.delta_max is not None:
        parts.append(f"|delta| {abs(row.delta or 0):.2f} in [{_bound(spec.delta_min, '0')}, "
                     f"{_bound(spec.delta_max, '1')}] ({row.greeks_source} greeks)")
    if spec.dte_min is not None or spec.dte_max is not None:
        parts.append(f"{row.dte} DTE in [{_bound(spec.dte_min, '0')}, {_bound(spec.dte_max, 'any')}]")
    if spec.max_spread_pct is not None:
        parts.append(f"spread {row.spread_pct:.1f}% <= {spec.max_spread_pct:g}%")
    if spec.min_open_interest is not None:
        parts.append(f"open interest {row.open_interest:,} >= {spec.min_open_interest:,}")
    if spec.min_volume is not None:
        parts.append(f"volume {row.volume:,} >= {spec.min_volume:,}")
    return "; ".join(parts) or "no filters: every contract passes"


def _bound(value: float | None, default: str) -> str:
    return default if value is None else f"{value:g}"
