"""Alert use cases: create, list, get, edit, delete, snooze, dismiss, and the triggers of an alert.

Rules beyond `core.domain.alerts.validate`: an unknown symbol is refused (NotFound) when market data is enabled;
without market data the alert is accepted with a warning. At most `max_active` live alerts (Conflict naming the
limit). Creating an alert identical to a live one returns that one (``duplicate: true``). A deleted alert is
gone for every call (NotFound) though its triggers and pending deliveries are kept.

When the alert engine runs in this process, every write updates its index and the market watch set under the
engine's write lock (so a batched state flush never overwrites a user's edit); in a split deployment the engine
process picks the change up from the database (`AlertEngine.reconcile`).
"""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog

from core.db.base import new_id
from core.db.models import AlertDelivery, AlertRow, AlertTrigger
from core.db.repositories.alerts import (
    DELETED,
    AlertRepository,
    row_to_alert,
    spec_columns,
    state_columns,
    stored_alert_event,
    stored_meta,
)
from core.db.session import Database
from core.domain.actions import AlertChip
from core.domain.alert_views import AlertCreated, AlertEdited, AlertView, DeliveryView, TriggerView, extended
from core.domain.alerts import (
    Alert,
    AlertDraft,
    AlertSpec,
    AlertStatus,
    Fired,
    FireKind,
    create,
    dismiss,
    edit,
    snooze,
    validate,
)
from core.domain.events import AlertEvent
from core.domain.plans import fmt_num
from core.errors import Conflict, ExternalTransient, IntegrationDisabled, Invalid, NotFound
from core.ports import LiveAlerts
from core.services.market import MarketService

log = structlog.get_logger("service.alerts")

MAX_SNOOZE_MINUTES = 7 * 24 * 60
HISTORY_MAX = 500
DRAFT_FIELDS = frozenset(f.name for f in fields(AlertDraft))


def _str(value: Decimal | None) -> str | None:
    """A price as text: exact, at least two decimals (``500`` and ``500.000000`` both read ``500.00``)."""
    return None if value is None else fmt_num(value)


def _pct(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def alert_view(alert: Alert, row: AlertRow) -> AlertView:
    spec = alert.spec
    return AlertView(
        id=alert.id, symbol=spec.symbol, condition=spec.condition.value, level=fmt_num(spec.level),
        threshold_pct=_pct(spec.threshold_pct), approach_level=_str(spec.approach_level),
        timeframe=spec.timeframe.value, repeat=spec.repeat.value, cooldown_sec=spec.cooldown_sec,
        expires_at=_iso(spec.expires_at), channels=tuple(c.value for c in spec.channels), note=spec.note,
        status=alert.status.value, armed=alert.armed, approach_armed=alert.approach_armed,
        snoozed_until=_iso(alert.snoozed_until), first_triggered_at=_iso(alert.first_triggered_at),
        last_triggered_at=_iso(alert.last_triggered_at), last_approached_at=_iso(alert.last_approached_at),
        already_true=row.already_true, created_by=row.created_by, created_at=_iso(row.created_at),
        updated_at=_iso(row.updated_at))


def delivery_view(delivery: AlertDelivery) -> DeliveryView:
    return DeliveryView(channel=delivery.channel, status=delivery.status, attempts=delivery.attempts,
                        delivered_at=_iso(delivery.delivered_at), latency_ms=delivery.latency_ms,
                        last_error=delivery.last_error)


def trigger_view(trigger: AlertTrigger, deliveries: tuple[DeliveryView, ...]) -> TriggerView:
    payload = trigger.payload or {}
    meta = stored_meta(trigger)
    return TriggerView(id=trigger.id, alert_id=trigger.alert_id, kind=trigger.kind, price=fmt_num(trigger.price),
                       late=trigger.late, triggered_at=_iso(trigger.triggered_at), level=payload.get("level"),
                       msg=payload.get("msg"), fired_at=meta.fired_at, actions=meta.actions or (), meta=meta,
                       rationale=trigger.rationale, deliveries=deliveries)


@dataclass(frozen=True, slots=True)
class StoredFire:
    """A fire as its trigger row keeps it (the alert in its current state), and the chips the trader was shown."""

    trigger_id: str
    fired: Fired
    chips: tuple[AlertChip, ...]

    def chip(self, chip_id: str) -> AlertChip | None:
        return next((chip for chip in self.chips if chip.id == chip_id), None)


@dataclass(frozen=True, slots=True)
class FiredAlert:
    """A stored fire as `/ws` announced it: its `alert` event and when it was published."""

    event: AlertEvent
    at: datetime


@dataclass(frozen=True, slots=True)
class TriggerHistory:
    """A page of fires across alerts, newest first; ``next_before`` asks for the page after it (None: the end)."""

    items: list[FiredAlert]
    next_before: str | None


class AlertService:
    def __init__(self, db: Database, market: MarketService, *, max_active: int,
                 engine: LiveAlerts | None = None) -> None:
        self.db, self.market, self.max_active = db, market, max_active
        self.engine = engine

    # -- helpers -----------------------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _locked(self) -> AsyncIterator[None]:
        if self.engine is None:
            yield
            return
        async with self.engine.write_lock:
            yield

    async def _after_write(self, alert: Alert | None, alert_id: str) -> None:
        if self.engine is None:
            return
        if alert is not None and alert.status.is_live:
            self.engine.apply(alert)
        else:
            self.engine.forget(alert_id)
        await self.engine.sync_watch()

    async def _last_price(self, symbol: str) -> tuple[Decimal | None, list[str]]:
        """The last price (for ``already_true``) and warnings; NotFound for a symbol Polygon does not know."""
        try:
            quote = await self.market.quote(symbol)
        except NotFound as exc:
            raise NotFound(f"unknown symbol {symbol}: {exc.message}",
                           details={"field": "symbol", "symbol": symbol}) from exc
        except IntegrationDisabled as exc:
            return None, [f"market data is disabled ({exc.reason}): {symbol} was not checked and the alert only "
                          "fires once prices arrive"]
        except ExternalTransient as exc:
            return None, [f"could not check {symbol} right now ({exc.message}); the alert was kept"]
        return quote.last, []

    def _state(self, row: AlertRow) -> Alert:
        current = self.engine.current(row.id) if self.engine is not None else None
        return current if current is not None else row_to_alert(row)

    @staticmethod
    def _draft(body: dict[str, Any], base: AlertDraft | None = None) -> AlertDraft:
        unknown = sorted(set(body) - DRAFT_FIELDS)
        if unknown:
            raise Invalid(f"unknown alert fields: {', '.join(unknown)}",
                          details={"errors": [{"code": "unknown_field", "message": "unknown field; remove it",
                                               "field": name} for name in unknown]})
        values = dict(body)
        for name in ("symbol", "condition", "level", "timeframe", "repeat", "channels", "cooldown_sec"):
            if name in values and values[name] is None:
                raise Invalid(f"{name} cannot be null", details={"errors": [
                    {"code": "missing", "message": f"{name} cannot be null", "field": name}]})
        if "channels" in values and isinstance(values["channels"], str):
            values["channels"] = [values["channels"]]
        if base is None:
            for name in ("symbol", "condition", "level"):
                if name not in values:
                    raise Invalid(f"{name} is missing", details={"errors": [
                        {"code": "missing", "message": f"{name} is missing", "field": name}]})
            return AlertDraft(**values)
        return replace(base, **values)

    # -- use cases ---------------------------------------------------------------------------------------------

    async def create(self, body: dict[str, Any], *, actor: str | None = None) -> AlertCreated:
        now = datetime.now(UTC)
        spec = validate(self._draft(body), now=now)
        async with self.db.read() as session:
            repo = AlertRepository(session)
            for row in await repo.live_of(spec.symbol):
                if row_to_alert(row).spec == spec:
                    return extended(alert_view(self._state(row), row), AlertCreated, duplicate=True, warnings=())
            active = await repo.count_live()
        if active >= self.max_active:
            raise Conflict(f"too many active alerts: the limit is {self.max_active} (MAX_ACTIVE_ALERTS); "
                           "delete or dismiss some first", details={"limit": self.max_active, "active": active})
        last, warnings = await self._last_price(spec.symbol)
        created = create(new_id(), spec, last_price=last)
        alert = created.alert
        async with self._locked():
            async with self.db.uow() as session:
                row = AlertRow(id=alert.id, **spec_columns(spec), **state_columns(alert),
                               already_true=created.already_true, created_by=actor, created_at=now, updated_at=now)
                await AlertRepository(session).add(row)
            await self._after_write(alert, alert.id)
        log.info("alert.created", alert_id=alert.id, symbol=spec.symbol, already_true=created.already_true)
        return extended(alert_view(alert, row), AlertCreated, duplicate=False, warnings=tuple(warnings))

    async def list(self, status: str | None = None) -> list[AlertView]:
        if status is not None and status not in {s.value for s in AlertStatus}:
            raise Invalid(f"status must be one of {', '.join(s.value for s in AlertStatus)}",
                          details={"errors": [{"code": "invalid_choice", "field": "status",
                                               "message": f"unknown status {status!r}"}]})
        async with self.db.read() as session:
            rows = await AlertRepository(session).list(status)
        return [alert_view(self._state(row), row) for row in rows]

    async def _require(self, repo: AlertRepository, alert_id: str, *, for_update: bool = False) -> AlertRow:
        row = await repo.get(alert_id, for_update=for_update)
        if row is None:
            raise NotFound(f"alert {alert_id} not found", details={"alert_id": alert_id})
        return row

    async def get(self, alert_id: str) -> AlertView:
        async with self.db.read() as session:
            row = await self._require(AlertRepository(session), alert_id)
        return alert_view(self._state(row), row)

    async def update(self, alert_id: str, body: dict[str, Any]) -> AlertEdited:
        if not body:
            raise Invalid("send at least one field to change", details={"errors": [
                {"code": "empty", "message": "no field to change", "field": "body"}]})
        now = datetime.now(UTC)
        async with self.db.read() as session:
            row = await self._require(AlertRepository(session), alert_id)
        spec: AlertSpec = validate(self._draft(body, row_to_alert(row).spec.draft()), now=now)
        last, warnings = await self._last_price(spec.symbol)
        async with self._locked():
            async with self.db.uow() as session:
                repo = AlertRepository(session)
                row = await self._require(repo, alert_id, for_update=True)
                result = edit(self._state(row), spec, last_price=last)
                for name, value in {**spec_columns(spec), **state_columns(result.alert),
                                    "already_true": result.already_true, "updated_at": now}.items():
                    setattr(row, name, value)
            await self._after_write(result.alert, alert_id)
        return extended(alert_view(result.alert, row), AlertEdited, warnings=tuple(warnings))

    async def delete(self, alert_id: str) -> None:
        async with self._locked():
            async with self.db.uow() as session:
                row = await self._require(AlertRepository(session), alert_id, for_update=True)
                row.status, row.snoozed_until, row.updated_at = DELETED, None, datetime.now(UTC)
            await self._after_write(None, alert_id)
        log.info("alert.deleted", alert_id=alert_id)

    async def snooze(self, alert_id: str, *, minutes: int | None = None,
                     until: datetime | None = None) -> AlertView:
        now = datetime.now(UTC)
        if (minutes is None) == (until is None):
            raise Invalid("send either minutes or until", details={"errors": [
                {"code": "missing", "message": "send minutes (1-10080) or until", "field": "minutes"}]})
        if minutes is not None:
            if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_SNOOZE_MINUTES:
                raise Invalid(f"minutes must be a whole number from 1 to {MAX_SNOOZE_MINUTES}", details={"errors": [
                    {"code": "out_of_range", "message": f"1 to {MAX_SNOOZE_MINUTES}", "field": "minutes"}]})
            until = now + timedelta(minutes=minutes)
        assert until is not None
        if until.tzinfo is None or until <= now:
            raise Invalid("until must be a future time with a timezone", details={"errors": [
                {"code": "out_of_range", "message": "must be in the future (UTC)", "field": "until"}]})
        return await self._transition(alert_id, lambda alert: snooze(alert, until))

    async def dismiss(self, alert_id: str) -> AlertView:
        return await self._transition(alert_id, dismiss)

    async def _transition(self, alert_id: str, change: Callable[[Alert], Alert]) -> AlertView:
        async with self._locked():
            async with self.db.uow() as session:
                row = await self._require(AlertRepository(session), alert_id, for_update=True)
                try:
                    alert: Alert = change(self._state(row))
                except Invalid as exc:
                    raise Conflict(exc.message, details={"alert_id": alert_id, "status": row.status}) from exc
                for name, value in {**state_columns(alert), "updated_at": datetime.now(UTC)}.items():
                    setattr(row, name, value)
            await self._after_write(alert, alert_id)
        return alert_view(alert, row)

    async def history(self, *, limit: int = 50, before: str | None = None) -> TriggerHistory:
        """The fires of every alert (deleted ones' included), newest first, ``limit`` per page; ``before`` is the
        ``next_before`` of the previous page."""
        if isinstance(limit, bool) or not 1 <= limit <= HISTORY_MAX:
            raise Invalid(f"limit must be 1-{HISTORY_MAX}", details={"errors": [
                {"code": "out_of_range", "message": f"1 to {HISTORY_MAX}", "field": "limit"}]})
        async with self.db.read() as session:
            repo = AlertRepository(session)
            after = await repo.trigger(before) if before is not None else None
            if before is not None and after is None:
                raise Invalid(f"before: no trigger {before!r}; send the next_before of the previous page",
                              details={"errors": [{"code": "not_found", "field": "before",
                                                   "message": "unknown trigger id"}]})
            rows = await repo.trigger_history(limit + 1, after)
        items = [FiredAlert(stored_alert_event(t), t.triggered_at) for t in rows[:limit]]
        return TriggerHistory(items, rows[limit - 1].id if len(rows) > limit else None)

    async def stored_fire(self, trigger_id: str) -> StoredFire:
        """The fire behind `trigger_id`; NotFound when the trigger or its alert is gone."""
        if not trigger_id or len(trigger_id) > 32:
            raise NotFound(f"alert trigger {trigger_id[:40]!r} does not exist", details={"trigger_id": trigger_id[:40]})
        async with self.db.read() as session:
            repo = AlertRepository(session)
            trigger = await repo.trigger(trigger_id)
            row = await repo.get(trigger.alert_id) if trigger is not None else None
        if trigger is None:
            raise NotFound(f"alert trigger {trigger_id} does not exist", details={"trigger_id": trigger_id})
        if row is None:
            raise NotFound(f"the alert of trigger {trigger_id} was deleted", details={"trigger_id": trigger_id})
        meta = stored_meta(trigger)
        fired = Fired(self._state(row), FireKind(trigger.kind), Decimal(trigger.price),
                      datetime.fromisoformat(meta.fired_at) if meta.fired_at else trigger.triggered_at,
                      bool(trigger.late))
        return StoredFire(trigger.id, fired, meta.actions or ())

    async def triggers(self, alert_id: str, *, limit: int = 200) -> builtins.list[TriggerView]:
        async with self.db.read() as session:
            repo = AlertRepository(session)
            await self._require(repo, alert_id)
            triggers = await repo.triggers(alert_id, limit=limit)
            deliveries = await repo.deliveries_of([t.id for t in triggers])
        by_trigger: dict[str, builtins.list[DeliveryView]] = {}
        for d in deliveries:
            by_trigger.setdefault(str(d.trigger_id), []).append(delivery_view(d))
        return [trigger_view(t, tuple(by_trigger.get(t.id, ()))) for t in triggers]
