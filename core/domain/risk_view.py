"""The risk state as every surface shows it: the `risk` event, `GET /stream/risk`, Discord `/risk`, Slack `/ta risk`.

One type for both a computed state and an `unknown` one (no broker, a failed read), so a reader never has to
guess which keys exist: a computed state has no `how_to_enable`, an unknown one has no equity, day P&L or
evaluation time (those keys are left out of the JSON rather than sent as null). Decimals leave as strings in their
own notation, times as ISO-8601 text.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import msgspec

from core.domain.risk import LimitUsage, RiskState

RiskStatus = Literal["ACTIVE", "REDUCE_ONLY", "HALTED", "unknown"]
UNKNOWN: RiskStatus = "unknown"


class RiskStateView(msgspec.Struct, frozen=True, omit_defaults=True, kw_only=True):
    """`state` repeats `status` (the dashboard reads `state`). `usage` is one row per limit, empty when unknown."""

    status: RiskStatus
    reasons: tuple[str, ...]
    usage: tuple[LimitUsage, ...]
    equity: Decimal | None = None
    day_pnl: Decimal | None = None
    evaluated_at: str | None = None
    cooldown_until: str | None
    warnings: tuple[str, ...]
    state: RiskStatus
    how_to_enable: str | None = None

    @property
    def known(self) -> bool:
        return self.status != UNKNOWN

    @classmethod
    def of(cls, state: RiskState) -> RiskStateView:
        status: RiskStatus = state.status.value
        return cls(status=status, reasons=state.reasons, usage=state.usage, equity=state.equity,
                   day_pnl=state.day_pnl, evaluated_at=state.evaluated_at.isoformat(),
                   cooldown_until=state.cooldown_until.isoformat() if state.cooldown_until else None,
                   warnings=state.warnings, state=status)

    @classmethod
    def unknown(cls, reason: str, how_to_enable: str) -> RiskStateView:
        """The state when it cannot be computed: why, and what brings it back."""
        return cls(status=UNKNOWN, reasons=(reason,), usage=(), cooldown_until=None, warnings=(), state=UNKNOWN,
                   how_to_enable=how_to_enable)
