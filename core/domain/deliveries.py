"""What a delivery channel (a `core.ports.Notifier`) is handed for one row of the alert outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import msgspec

from core.domain.events import AlertEvent, AlertMeta


@dataclass(frozen=True, slots=True)
class Delivery:
    """The stored `alert` event of an outbox row and the row's identity: a fire's ``trigger_id`` and
    ``alert_id``, or a news item's ``news_id`` (``meta.kind`` = ``news``). ``triggered_at``: when it fired (a news
    item: when it was queued); ``attempt``: 1 on the first try."""

    level: Literal["info", "warning", "critical"]
    msg: str
    meta: AlertMeta
    trigger_id: str | None
    alert_id: str | None
    triggered_at: datetime
    attempt: int = 1
    news_id: str | None = None

    @classmethod
    def of(cls, event: AlertEvent, *, trigger_id: str | None, alert_id: str | None, triggered_at: datetime,
           attempt: int = 1, news_id: str | None = None) -> Delivery:
        assert event.meta is not None, "a stored alert event carries its meta"
        return cls(event.level, event.msg, event.meta, trigger_id, alert_id, triggered_at, attempt, news_id)

    @property
    def key(self) -> str | None:
        """The idempotency key a channel can dedupe retries by: the trigger's id, or the news item's."""
        return self.trigger_id or self.news_id

    def redelivered(self) -> AlertEvent:
        """The `alert` event again, marked as sent a second time."""
        return AlertEvent(level=self.level, msg=self.msg, meta=msgspec.structs.replace(self.meta, redelivered=True))
