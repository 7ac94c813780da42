"""The integrations as chat text, shared by Discord's `/status` and Slack's `/ta status`: enabled or not, why,
how to enable, and for market data its live state in words (never a raw value of the `status` event)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def live_state(status: Mapping[str, Any]) -> str:
    """Market data's feed state, market session, quote lag p95 and stale symbols; empty for the others."""
    parts = []
    if status.get("feed"):
        parts.append(f"feed {status.get('state')}")
    if status.get("market"):
        parts.append(f"market {status['market']}")
    lag = status.get("feed_lag_ms")
    if isinstance(lag, Mapping) and lag.get("p95") is not None:
        parts.append(f"feed lag p95 {float(lag['p95']):.0f} ms")
    stale = status.get("stale") or ()
    if stale:
        parts.append(f"stale: {', '.join(str(symbol) for symbol in stale)}")
    return " · ".join(parts)
