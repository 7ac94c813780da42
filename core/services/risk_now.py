"""The risk state for a reader asking now (`GET /stream/risk`, Discord `/risk`, Slack `/ta risk`): one answer for
every surface."""

from __future__ import annotations

from core.domain.risk_view import RiskStateView
from core.errors import CoreError
from core.services.risk import RiskService


async def risk_state_now(risk: RiskService) -> RiskStateView:
    """The state a `risk` event carries, evaluated on demand when the last evaluation is older than RISK_EVAL_SEC
    (e.g. in an API-only process); `unknown` with the reason when it cannot be."""
    if not risk.enabled:
        return risk.snapshot()
    if risk.error is not None:  # the engine's last cycle failed; it retries every RISK_EVAL_SEC
        return risk.error
    try:
        state, _ = await risk.current()
    except CoreError as exc:
        return RiskStateView.unknown(f"broker read failed: {exc.message}",
                                     "the risk engine retries every RISK_EVAL_SEC")
    return RiskStateView.of(state)
