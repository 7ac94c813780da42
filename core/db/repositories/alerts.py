"""alerts, alert_triggers and the alert_deliveries outbox.

A deleted alert is kept (its triggers and pending deliveries stay) with status ``deleted``, which no query of
live alerts returns. The outbox is claimed row by row with a compare-and-set UPDATE (``pending -> sending``),
so two workers never send the same row; a claim is a lease (``next_attempt_at`` = lease end) that a restart
hands back to ``pending`` once it has run out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import msgspec
from sqlalchemy import Table, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import AlertDelivery, AlertRow, AlertTrigger
from core.db.repositories.news import NewsRepository
from core.domain.alerts import (
    FIRE_LEVELS,
    Alert,
    AlertSpec,
    AlertStatus,
    Channel,
    Condition,
    FireKind,
    Repeat,
    Timeframe,
)
from core.domain.events import AlertEvent, AlertMeta
from core.domain.news import news_alert
from core.domain.plans import fmt_num

DELETED = "deleted"
LIVE = (AlertStatus.ACTIVE.value, AlertStatus.SNOOZED.value)
_FINAL_BY_USER = (DELETED, AlertStatus.DISMISSED.value)

PENDING, SENDING, DELIVERED, FAILED = "pending", "sending", "delivered", "failed"
_STATE_COLUMNS = ("status", "armed", "approach_armed", "snoozed_until", "first_triggered_at", "last_triggered_at",
                  "last_approached_at", "updated_at")
_alerts = cast(Table, AlertRow.__table__)
_SAVE_STATE = (update(_alerts)
               .where(_alerts.c.id == bindparam("b_id"), *(_alerts.c.status != s for s in _FINAL_BY_USER))
               .values({name: bindparam(f"b_{name}") for name in _STATE_COLUMNS}))
_deliveries = cast(Table, AlertDelivery.__table__)
_triggers = cast(Table, AlertTrigger.__table__)


def row_to_alert(row: AlertRow) -> Alert:
    """The domain alert of a (not deleted) row."""
    spec = AlertSpec(
        symbol=row.symbol, condition=Condition(row.condition), level=Decimal(row.level),
        timeframe=Timeframe(row.timeframe), repeat=Repeat(row.repeat), cooldown_sec=row.cooldown_sec,
        channels=tuple(Channel(c) for c in row.channels), threshold_pct=row.threshold_pct,
        expires_at=row.expires_at, note=row.note)
    return Alert(id=row.id, spec=spec, status=AlertStatus(row.status), armed=row.armed,
                 approach_armed=row.approach_armed, snoozed_until=row.snoozed_until,
                 first_triggered_at=row.first_triggered_at, last_triggered_at=row.last_triggered_at,
                 last_approached_at=row.last_approached_at)


def spec_columns(spec: AlertSpec) -> dict[str, Any]:
    return {"symbol": spec.symbol, "condition": spec.condition.value, "level": spec.level,
            "threshold_pct": spec.threshold_pct, "timeframe": spec.timeframe.value, "repeat": spec.repeat.value,
            "cooldown_sec": spec.cooldown_sec, "expires_at": spec.expires_at,
            "channels": [c.value for c in spec.channels], "note": spec.note}


def state_columns(alert: Alert) -> dict[str, Any]:
    return {"status": alert.status.value, "armed": alert.armed, "approach_armed": alert.approach_armed,
            "snoozed_until": alert.snoozed_until, "first_triggered_at": alert.first_triggered_at,
            "last_triggered_at": alert.last_triggered_at, "last_approached_at": alert.last_approached_at}


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """An outbox row with what its notifier needs: the trigger's stored event and time, or for a news item
    (`news_id`) the stored item as `news_alert` shows it and the time it was queued."""

    id: str
    channel: str
    attempts: int
    trigger_id: str | None
    alert_id: str | None
    triggered_at: datetime
    event: AlertEvent
    news_id: str | None = None


def stored_meta(trigger: AlertTrigger) -> AlertMeta:
    """The meta a trigger row's `alert` event was published with; the row's own columns fill what its payload
    lacks."""
    published = (trigger.payload or {}).get("meta") or {}
    return AlertMeta.stored({"alert_id": trigger.alert_id, "trigger_id": trigger.id, "kind": trigger.kind,
                             "price": fmt_num(trigger.price), "late": trigger.late, "actions": [], **published})


def stored_alert_event(trigger: AlertTrigger) -> AlertEvent:
    """The `alert` event a trigger row was published as, from the payload the alert engine stored; the
    rationale that followed as an update event is folded into ``meta.rationale``. The row's own columns fill
    what a payload lacks."""
    payload = trigger.payload or {}
    level = payload.get("level")
    meta = stored_meta(trigger)
    if trigger.rationale:
        meta = msgspec.structs.replace(meta, rationale=trigger.rationale)
    return AlertEvent(level=level if level in ("info", "warning", "critical") else FIRE_LEVELS[FireKind(trigger.kind)],
                      msg=str(payload.get("msg") or ""), meta=meta)


class AlertRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- alerts ------------------------------------------------------------------------------------------------

    async def add(self, row: AlertRow) -> AlertRow:
        self.session.add(row)
        await self.session.flush()
        return row

    async def get(self, alert_id: str, *, for_update: bool = False) -> AlertRow | None:
        """The row unless it is deleted."""
        query = select(AlertRow).where(AlertRow.id == alert_id, AlertRow.status != DELETED)
        if for_update:
            query = query.with_for_update()
        return (await self.session.scalars(query)).first()

    async def list(self, status: str | None = None, *, limit: int = 1000) -> Sequence[AlertRow]:
        query = select(AlertRow).where(AlertRow.status != DELETED)
        if status is not None:
            query = query.where(AlertRow.status == status)
        query = query.order_by(AlertRow.created_at.desc(), AlertRow.id.desc()).limit(limit)
        return (await self.session.scalars(query)).all()

    async def live(self) -> Sequence[AlertRow]:
        return (await self.session.scalars(select(AlertRow).where(AlertRow.status.in_(LIVE)))).all()

    async def live_of(self, symbol: str) -> Sequence[AlertRow]:
        query = select(AlertRow).where(AlertRow.symbol == symbol, AlertRow.status.in_(LIVE))
        return (await self.session.scalars(query.order_by(AlertRow.created_at))).all()

    async def count_live(self) -> int:
        return int(await self.session.scalar(
            select(func.count()).select_from(AlertRow).where(AlertRow.status.in_(LIVE))) or 0)

    async def changed_since(self, since: datetime) -> Sequence[AlertRow]:
        """Rows written at or after ``since`` (deleted ones included), for an engine in another process."""
        return (await self.session.scalars(select(AlertRow).where(AlertRow.updated_at >= since))).all()

    async def save_states(self, alerts: Iterable[Alert], now: datetime) -> None:
        """Persist the engine's view of each alert's state; never revives one a user deleted or dismissed.
        One Core executemany (no ORM bookkeeping: this runs on the trigger path)."""
        params = [{"b_id": alert.id, **{f"b_{k}": v for k, v in state_columns(alert).items()}, "b_updated_at": now}
                  for alert in alerts]
        if params:
            await self.session.execute(_SAVE_STATE, params)

    # -- triggers ----------------------------------------------------------------------------------------------

    async def existing_dedupe_keys(self, keys: Sequence[str]) -> set[str]:
        if not keys:
            return set()
        query = select(AlertTrigger.dedupe_key).where(AlertTrigger.dedupe_key.in_(keys))
        return set((await self.session.scalars(query)).all())

    async def add_triggers(self, rows: Sequence[dict[str, Any]]) -> None:
        """Bulk insert (one executemany). A dedupe key inserted meanwhile raises IntegrityError: the caller's
        transaction rolls back and its retry skips that key (see `existing_dedupe_keys`)."""
        if rows:
            await self.session.execute(insert(_triggers), list(rows))

    async def set_rationale(self, trigger_id: str, text: str) -> None:
        await self.session.execute(update(_triggers).where(_triggers.c.id == trigger_id).values(rationale=text))

    async def trigger(self, trigger_id: str) -> AlertTrigger | None:
        return await self.session.get(AlertTrigger, trigger_id)

    async def triggers(self, alert_id: str, *, limit: int = 200) -> Sequence[AlertTrigger]:
        query = (select(AlertTrigger).where(AlertTrigger.alert_id == alert_id)
                 .order_by(AlertTrigger.triggered_at.desc(), AlertTrigger.id.desc()).limit(limit))
        return (await self.session.scalars(query)).all()

    async def trigger_history(self, limit: int, before: AlertTrigger | None = None) -> Sequence[AlertTrigger]:
        """Triggers of every alert, newest first; with ``before``, only those older than that trigger (keyset:
        triggered_at, then id, so a page boundary never skips or repeats a row)."""
        query = select(AlertTrigger)
        if before is not None:
            query = query.where(or_(AlertTrigger.triggered_at < before.triggered_at,
                                    and_(AlertTrigger.triggered_at == before.triggered_at,
                                         AlertTrigger.id < before.id)))
        query = query.order_by(AlertTrigger.triggered_at.desc(), AlertTrigger.id.desc()).limit(limit)
        return (await self.session.scalars(query)).all()

    async def deliveries_of(self, trigger_ids: Sequence[str]) -> Sequence[AlertDelivery]:
        if not trigger_ids:
            return []
        query = select(AlertDelivery).where(AlertDelivery.trigger_id.in_(trigger_ids))
        return (await self.session.scalars(query.order_by(AlertDelivery.channel))).all()


class DeliveryRepository:
    """The outbox. Every state change is one UPDATE guarded by the expected current status."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, rows: Sequence[dict[str, Any]]) -> None:
        """Bulk insert (one executemany); every row names all its columns."""
        if rows:
            await self.session.execute(insert(_deliveries), list(rows))

    async def due(self, channel: str, now: datetime, limit: int = 50) -> list[DueDelivery]:
        query = (select(AlertDelivery, AlertTrigger)
                 .outerjoin(AlertTrigger, AlertTrigger.id == AlertDelivery.trigger_id)
                 .where(AlertDelivery.channel == channel, AlertDelivery.status == PENDING,
                        AlertDelivery.next_attempt_at <= now)
                 .order_by(AlertDelivery.next_attempt_at, AlertDelivery.id).limit(limit))
        rows = (await self.session.execute(query)).all()
        news_ids = [d.news_id for d, _ in rows if d.news_id is not None]
        news = {item.id: item for item in await NewsRepository(self.session).by_ids(news_ids)}
        due = []
        for d, t in rows:
            if t is not None:
                due.append(DueDelivery(d.id, d.channel, d.attempts, t.id, t.alert_id, t.triggered_at,
                                       stored_alert_event(t)))
            elif d.news_id in news:
                due.append(DueDelivery(d.id, d.channel, d.attempts, None, None, d.created_at,
                                       news_alert(news[d.news_id]), news_id=d.news_id))
        return due

    async def next_due(self, channel: str) -> datetime | None:
        """When the earliest pending row of ``channel`` becomes due."""
        return await self.session.scalar(
            select(func.min(AlertDelivery.next_attempt_at))
            .where(AlertDelivery.channel == channel, AlertDelivery.status == PENDING))

    async def pending_channels(self, now: datetime) -> list[str]:
        query = (select(AlertDelivery.channel).distinct()
                 .where(AlertDelivery.status == PENDING, AlertDelivery.next_attempt_at <= now))
        return list((await self.session.scalars(query)).all())

    async def claim(self, delivery_ids: Sequence[str], lease_until: datetime) -> set[str]:
        """pending -> sending (attempts + 1) for the rows still pending, in one UPDATE; returns the ids claimed,
        which the caller alone may now send."""
        result = await self.session.execute(
            update(_deliveries).where(_deliveries.c.id.in_(list(delivery_ids)), _deliveries.c.status == PENDING)
            .values(status=SENDING, next_attempt_at=lease_until, attempts=_deliveries.c.attempts + 1)
            .returning(_deliveries.c.id))
        return set(result.scalars().all())

    async def delivered(self, delivery_ids: Sequence[str], at: datetime, latency_ms: float) -> None:
        """sending -> delivered for rows delivered at the same moment (one UPDATE)."""
        await self.session.execute(
            update(_deliveries).where(_deliveries.c.id.in_(list(delivery_ids)), _deliveries.c.status == SENDING)
            .values(status=DELIVERED, delivered_at=at, latency_ms=latency_ms, last_error=None))

    async def retry(self, delivery_id: str, at: datetime, error: str) -> None:
        await self.session.execute(
            update(_deliveries).where(_deliveries.c.id == delivery_id, _deliveries.c.status == SENDING)
            .values(status=PENDING, next_attempt_at=at, last_error=error[:2000]))

    async def failed(self, delivery_id: str, error: str) -> None:
        await self.session.execute(
            update(_deliveries).where(_deliveries.c.id == delivery_id, _deliveries.c.status == SENDING)
            .values(status=FAILED, last_error=error[:2000]))

    async def release_expired_leases(self, now: datetime) -> int:
        """Rows left ``sending`` by a process that died mid-send go back to ``pending`` (at-least-once)."""
        result = await self.session.execute(
            update(_deliveries).where(_deliveries.c.status == SENDING, _deliveries.c.next_attempt_at <= now)
            .values(status=PENDING))
        return int(result.rowcount)  # type: ignore[attr-defined]
