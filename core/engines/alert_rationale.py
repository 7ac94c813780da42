"""Optional LLM enrichment of fired alerts: a short rationale, sent afterwards as an update event.

Runs only when the coach's LLM is configured. The alert engine hands over each fire *after* its `alert` event
was published, so the model never delays the first delivery. A bounded queue and a few workers keep a burst of
fires from piling up model calls (a full queue skips the rationale, logged). Each call is bounded by
`TIMEOUT_SEC`; a timeout or any error is logged and ignored: the alert itself is complete without it.

The update is an ordinary `alert` event (``{type, level, msg, meta}``) at level ``info``,
carrying the same ``alert_id`` and ``trigger_id`` as the fire plus ``update: "rationale"`` and the text in
``meta.rationale``, and no action chips, so a client that does not know updates shows one extra info line and a
client that does can attach the text to the card of that trigger. Once the trigger is committed the text is
stored on its row (``alert_triggers.rationale``, shown by ``GET /alerts/{id}/triggers``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from core.db.repositories.alerts import AlertRepository
from core.db.session import Database
from core.domain.coach import ChatMessage
from core.domain.events import AlertEvent, AlertMeta
from core.ports import LLM, EventBus

log = structlog.get_logger("engine.alert_rationale")

TIMEOUT_SEC = 8.0
COMMIT_WAIT_SEC = 30.0
MAX_QUEUED = 64
WORKERS = 2
MAX_CHARS = 400
PROMPT = ("You add context to a price alert a day trader just received. In one or two short sentences (under "
          "240 characters), say why this alert matters and what to watch next. Use only the facts given; do not "
          "invent prices, levels, news or any other number. Plain text, no markdown.")


def rationale_event(fire: AlertEvent, text: str) -> AlertEvent:
    """The update event for the fire ``fire`` announced: same alert and trigger ids, the rationale as text."""
    meta = fire.meta
    assert meta is not None, "a fire's event carries its meta"
    return AlertEvent(level="info", msg=f"{meta.symbol or ''}: {text}".lstrip(": "), meta=AlertMeta(
        kind=meta.kind, alert_id=meta.alert_id, trigger_id=meta.trigger_id, symbol=meta.symbol, update="rationale",
        rationale=text, actions=()))


def _facts(fire: AlertEvent) -> str:
    """What the model is told: the fire's own fields and the chips the trader was offered, nothing else."""
    meta = fire.meta
    assert meta is not None, "a fire's event carries its meta"
    facts: dict[str, Any] = {"symbol": meta.symbol, "condition": meta.condition, "level": meta.level,
                             "price": meta.price, "kind": meta.kind, "timeframe": meta.timeframe,
                             "late": meta.late, "note": meta.note}
    facts = {key: value for key, value in facts.items() if value is not None}
    facts["alert"] = fire.msg
    facts["suggested_actions"] = [chip.label for chip in meta.actions or ()]
    return json.dumps(facts)


def _trigger_id(event: AlertEvent) -> str | None:
    return event.meta.trigger_id if event.meta is not None else None


def _clean(text: str | None) -> str:
    words = " ".join((text or "").split())
    return words if len(words) <= MAX_CHARS else words[:MAX_CHARS - 1].rstrip() + "…"


class AlertRationale:
    def __init__(self, llm: LLM, bus: EventBus, db: Database, *, timeout: float | None = None) -> None:
        self.llm, self.bus, self.db = llm, bus, db
        self.timeout = TIMEOUT_SEC if timeout is None else timeout
        self._queue: asyncio.Queue[tuple[AlertEvent, Callable[[], Awaitable[bool]]]] = asyncio.Queue(MAX_QUEUED)
        self.sent = 0

    def request(self, event: AlertEvent, committed: Callable[[], Awaitable[bool]]) -> None:
        """Enrich the published ``event``; ``committed`` waits until its trigger row is committed (False: never)."""
        try:
            self._queue.put_nowait((event, committed))
        except asyncio.QueueFull:
            log.warning("alerts.rationale_skipped", reason="queue full",
                        trigger_id=_trigger_id(event))

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            for _ in range(WORKERS):
                group.create_task(self._work())

    async def _work(self) -> None:
        while True:
            event, committed = await self._queue.get()
            try:
                await self.enrich(event, committed)
            except Exception as exc:  # never let one alert's enrichment stop the others
                log.warning("alerts.rationale_failed", error=f"{type(exc).__name__}: {exc}",
                            trigger_id=_trigger_id(event))

    async def enrich(self, event: AlertEvent, committed: Callable[[], Awaitable[bool]]) -> str | None:
        """Ask the model, publish the update, store the text on the trigger row; returns the text (or None)."""
        messages = [ChatMessage.system(PROMPT), ChatMessage("user", _facts(event))]
        reply = await asyncio.wait_for(self.llm.complete(messages, timeout=self.timeout), self.timeout)
        text = _clean(reply.content)
        if not text:
            return None
        await self.bus.publish(rationale_event(event, text))
        self.sent += 1
        trigger_id = _trigger_id(event)
        if trigger_id is not None and await asyncio.wait_for(committed(), COMMIT_WAIT_SEC):
            async with self.db.uow() as session:
                await AlertRepository(session).set_rationale(trigger_id, text)
        return text
