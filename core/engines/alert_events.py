"""What a fire becomes: its `alert` event (meta with the next-best-action chips), the channels
that want it, and its `alert_triggers` / `alert_deliveries` rows (`Published`).

Chips depend on the trading context (position, equity, risk state), read from caches through `TradingContext`:
never a broker call per alert.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from core.db.base import new_id
from core.db.repositories.alerts import DELIVERED, PENDING
from core.domain.actions import ActionContext, Sizer, next_actions, risk_sizer
from core.domain.alerts import FIRE_LEVELS, Channel, Fired, describe
from core.domain.events import AlertEvent, AlertMeta, stored_payload
from core.domain.orders import Position
from core.domain.risk import RiskLimits, TradingStatus
from core.services.settings import Tunables


class TradingContext(Protocol):
    """What next-best-action chips depend on, read synchronously from caches (never a broker call per alert)."""

    @property
    def broker_configured(self) -> bool: ...

    def position(self, symbol: str) -> Position | None: ...

    def equity(self) -> tuple[Decimal, Decimal | None] | None:
        """(equity, buying power) when known."""
        ...

    def risk_status(self) -> TradingStatus: ...


@dataclass(frozen=True, slots=True)
class NoTrading:
    """No broker data: no position, equity unknown (chips carry plans), risk ACTIVE."""

    broker_configured: bool = False

    def position(self, symbol: str) -> Position | None:
        return None

    def equity(self) -> tuple[Decimal, Decimal | None] | None:
        return None

    def risk_status(self) -> TradingStatus:
        return TradingStatus.ACTIVE


class RiskCacheContext:
    """A `TradingContext` over the risk service's latest account snapshot and state (cached, no I/O)."""

    def __init__(self, risk: Any) -> None:
        self.risk = risk

    @property
    def broker_configured(self) -> bool:
        return bool(getattr(self.risk, "enabled", False))

    def position(self, symbol: str) -> Position | None:
        account = getattr(self.risk, "account", None)
        for position in getattr(account, "positions", ()):
            if position.symbol == symbol and position.quantity:
                return position  # type: ignore[no-any-return]
        return None

    def equity(self) -> tuple[Decimal, Decimal | None] | None:
        balances = getattr(getattr(self.risk, "account", None), "balances", None)
        if balances is None:
            return None
        return balances.equity, balances.buying_power

    def risk_status(self) -> TradingStatus:
        latest = getattr(self.risk, "latest", None)
        return latest.status if latest is not None else TradingStatus.ACTIVE


@dataclass(slots=True, eq=False)
class Published:
    """A fire whose `alert` event went out (``ws_at``: when; None when ``ws`` is not wanted or the publish
    failed), waiting for the group commit of its trigger and outbox rows to ``channels``."""

    fire: Fired
    trigger_id: str
    event: AlertEvent
    triggered_at: datetime
    channels: tuple[str, ...]
    ws_at: datetime | None
    committed: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_committed(self) -> bool:
        await self.committed.wait()
        return True

    def rows(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The `alert_triggers` row and the outbox rows (``ws`` delivered already when it was published)."""
        event, at = self.event, self.triggered_at
        assert event.meta is not None
        trigger = {"id": self.trigger_id, "alert_id": self.fire.alert.id, "dedupe_key": self.fire.dedupe_key,
                   "kind": self.fire.kind.value, "price": self.fire.price, "late": bool(event.meta.late),
                   "payload": stored_payload(event), "triggered_at": at,
                   "rationale": None}
        outbox = []
        for channel in self.channels:
            row: dict[str, Any] = {"id": new_id(), "trigger_id": self.trigger_id, "channel": channel,
                                   "status": PENDING, "attempts": 0, "next_attempt_at": at, "last_error": None,
                                   "delivered_at": None, "latency_ms": None, "created_at": at}
            if channel == Channel.WS and self.ws_at is not None:
                row.update(status=DELIVERED, attempts=1, delivered_at=self.ws_at,
                           latency_ms=(self.ws_at - at).total_seconds() * 1000)
            outbox.append(row)
        return trigger, outbox


def alert_event(fire: Fired, trigger_id: str, now: datetime, *, tunables: Tunables, context: TradingContext,
                late_after: timedelta) -> AlertEvent:
    """The `alert` event of ``fire`` (``late`` when it was seen in back-filled data or is reported more than
    ``late_after`` after it happened)."""
    spec = fire.alert.spec
    actions = next_actions(fire, _action_context(context, spec.symbol, tunables))
    meta = AlertMeta(kind=fire.kind.value, alert_id=fire.alert.id, trigger_id=trigger_id, symbol=spec.symbol,
                     price=str(fire.price), level=str(spec.level), condition=spec.condition.value,
                     timeframe=spec.timeframe.value, late=fire.late or now - fire.ts > late_after,
                     fired_at=fire.ts.isoformat(), note=spec.note, actions=tuple(action.chip() for action in actions))
    return AlertEvent(level=FIRE_LEVELS[fire.kind], msg=describe(fire), meta=meta)


def _action_context(ctx: TradingContext, symbol: str, tunables: Tunables) -> ActionContext:
    money = ctx.equity()
    size: Sizer | None = None
    if money is not None:
        limits = RiskLimits(**tunables.risk.model_dump(), default_rr=tunables.default_rr)
        size = risk_sizer(limits, money[0], money[1], symbol)
    return ActionContext(position=ctx.position(symbol), risk_status=ctx.risk_status(),
                         broker_configured=ctx.broker_configured, size=size, reward_risk=tunables.default_rr)
