"""Publishes the `risk` heartbeat and the integrations `status` every RISK_EVAL_SEC.

Until a broker is configured the risk state is `unknown` with the reason; the risk engine (core/engines/risk.py)
takes over the `risk` event once the broker is enabled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from core.domain.events import RiskEvent, StatusEvent
from core.domain.risk_view import RiskStateView
from core.ports import EventBus


async def run_heartbeat(bus: EventBus, interval: float, *, status: Callable[[], dict[str, Any]],
                        risk_state: Callable[[], RiskStateView | None]) -> None:
    """`risk_state()` returning None means another engine owns the risk event; only status is sent then."""
    while True:
        state = risk_state()
        if state is not None:
            await bus.publish(RiskEvent(state=state))
        await bus.publish(StatusEvent(integrations=status()))
        await asyncio.sleep(interval)
