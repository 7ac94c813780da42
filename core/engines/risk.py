"""The risk engine: every RISK_EVAL_SEC, evaluate the account and publish `risk`; alert on restrictive transitions.

    engine = RiskEngine(service, bus, interval=settings.risk_eval_sec)
    runtime.spawn(engine.run(), name="risk")

A transition to REDUCE_ONLY (warning) or HALTED (critical) also publishes an `alert` saying why; going back to
ACTIVE publishes an info alert. A cycle that cannot read the broker publishes an `unknown` state with the reason
and the loop carries on; an `unknown` blip between two equal states raises no new alert (the last *known* status
is what transitions are measured from).
"""

from __future__ import annotations

import asyncio
import time
from typing import Literal

import structlog
from prometheus_client import Histogram

from core.domain.events import AlertEvent, AlertMeta, RiskEvent
from core.domain.risk import RiskState, TradingStatus
from core.domain.risk_view import RiskStateView
from core.errors import CoreError, IntegrationDisabled
from core.ports import EventBus
from core.services.risk import RiskService

log = structlog.get_logger("engine.risk")

RISK_EVAL_SECONDS = Histogram(
    "tradeassist_risk_eval_seconds", "Risk evaluation cycle time (broker reads included)",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
_LEVELS: dict[TradingStatus, Literal["info", "warning", "critical"]] = {
    TradingStatus.ACTIVE: "info", TradingStatus.REDUCE_ONLY: "warning", TradingStatus.HALTED: "critical"}


def transition_alert(previous: TradingStatus | None, state: RiskState) -> AlertEvent | None:
    """The alert for a move from `previous` (None: nothing known yet) to `state`, or None when none is due."""
    current = state.status
    if current is previous:
        return None
    if current is TradingStatus.ACTIVE:
        if previous is None:
            return None
        msg = f"Trading is active again (was {previous.value.lower().replace('_', '-')}): every limit has room."
    else:
        what = "Trading HALTED" if current is TradingStatus.HALTED else "Reduce-only"
        rule = ("no new positions or additions until the day's P&L resets; closing orders are still accepted"
                if current is TradingStatus.HALTED
                else "only orders that shrink an open position are accepted")
        msg = f"{what}: {'; '.join(state.reasons)}. {rule[0].upper()}{rule[1:]}."
    meta = AlertMeta(kind="risk", status=current.value, previous=previous.value if previous else None,
                     reasons=tuple(state.reasons), usage=tuple(u.text for u in state.usage))
    return AlertEvent(level=_LEVELS[current], msg=msg, meta=meta)


class RiskEngine:
    def __init__(self, service: RiskService, bus: EventBus, *, interval: float) -> None:
        self.service = service
        self.bus = bus
        self.interval = interval
        self.last_known: TradingStatus | None = None
        self.cycles = 0
        self.failures = 0

    async def run(self) -> None:
        while True:
            started = time.monotonic()
            await self.cycle()
            await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - started)))

    async def cycle(self) -> RiskStateView:
        """One evaluation: publish `risk` (and a transition alert). Never raises except on cancellation."""
        self.cycles += 1
        started = time.perf_counter()
        state: RiskState | None = None
        try:
            state = await self.service.evaluate()
            payload = RiskStateView.of(state)
        except IntegrationDisabled as exc:
            payload = self._failed(f"broker unavailable: {exc.message}", exc.how_to_enable, exc)
        except CoreError as exc:
            payload = self._failed(f"broker read failed: {exc.message}",
                                   "the risk engine retries every RISK_EVAL_SEC", exc)
        except Exception as exc:  # the loop must survive anything one cycle does
            log.error("risk.cycle_crashed", exc_info=exc)
            payload = self._failed(f"risk evaluation failed: {type(exc).__name__}",
                                   "see the engine log; the risk engine retries every RISK_EVAL_SEC", exc)
        finally:
            RISK_EVAL_SECONDS.observe(time.perf_counter() - started)
        await self.bus.publish(RiskEvent(state=payload))
        if state is not None:
            alert = transition_alert(self.last_known, state)
            if alert is not None:
                log.warning("risk.transition", status=state.status.value, reasons=list(state.reasons))
                await self.bus.publish(alert)
            self.last_known = state.status
        return payload

    def _failed(self, reason: str, how: str, exc: BaseException) -> RiskStateView:
        self.failures += 1
        log.warning("risk.unknown", reason=reason, error_type=type(exc).__name__)
        return self.service.mark_unknown(reason, how)
