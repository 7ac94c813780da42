"""Stored alert fires with the chips the alert engine would publish for the live account, for the action tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from core.db.base import new_id
from core.db.models import AlertTrigger
from core.db.repositories.alerts import AlertRepository, row_to_alert
from core.domain.alerts import Fired, FireKind
from core.domain.events import stored_payload
from core.engines.alert_events import RiskCacheContext, alert_event
from core.runtime import Runtime
from tests.wire import as_json


async def stored_fire(rt: Runtime, symbol: str, condition: str, level: str, price: str,
                      kind: FireKind = FireKind.CROSSED) -> dict[str, Any]:
    """An alert, and a stored trigger of it whose payload is the `alert` event (chips built from the live
    account, as the engine builds them): the payload with `trigger_id` and `alert_id`, as the outbox delivers."""
    alert = await rt.alerts.create({"symbol": symbol, "condition": condition, "level": level})
    async with rt.db.read() as session:
        row = await AlertRepository(session).get(alert.id)
    assert row is not None
    await rt.risk.evaluate()
    now = datetime.now(UTC)
    trigger_id = new_id()
    fired = Fired(row_to_alert(row), kind, Decimal(price), now)
    event = alert_event(fired, trigger_id, now, tunables=await rt.settings_service.get(),
                        context=RiskCacheContext(rt.risk), late_after=timedelta(minutes=5))
    payload = stored_payload(event)
    async with rt.db.uow() as session:
        session.add(AlertTrigger(id=trigger_id, alert_id=alert.id, dedupe_key=trigger_id, kind=kind.value,
                                 price=Decimal(price), payload=payload, triggered_at=now))
    return {**as_json(payload), "trigger_id": trigger_id, "alert_id": alert.id, "triggered_at": now.isoformat()}


def chip_ids(payload: dict[str, Any]) -> list[str]:
    return [chip["id"] for chip in payload["meta"]["actions"]]
