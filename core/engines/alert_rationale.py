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
from core.domain.actions import stored_chips
from core.domain.coach import ChatMessage
from core.domain.events import AlertEvent
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


def rationale_event(event: AlertEvent, text: str) -> AlertEvent:
    """The update event for the fire ``event`` announced: same alert and trigger ids, the rationale as text."""
    meta = event.meta or {}
    return AlertEvent(level="info", msg=f"{meta.get('symbol', '')}: {text}".lstrip(": "), meta={
        "alert_id": meta.get("alert_id"), "trigger_id": meta.get("trigger_id"), "symbol": meta.get("symbol"),
        "kind": meta.get("kind"), "update": "rationale", "rationale": text, "actions": []})


def _facts(event: AlertEvent) -> str:
    meta = event.meta or {}
    keys = ("symbol", "condition", "level", "price", "kind", "timeframe", "late", "note")
    facts: dict[str, Any] = {key: meta.get(key) for key in keys if meta.get(key) is not None}
    facts["alert"] = event.msg
    facts["suggested_actions"] = [chip.label for chip in stored_chips(meta.get("actions"))]
    return json.dumps(facts)


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
                        trigger_id=(event.meta or {}).get("trigger_id"))

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
                            trigger_id=(event.meta or {}).get("trigger_id"))

    async def enrich(self, event: AlertEvent, committed: Callable[[], Awaitable[bool]]) -> str | None:
        """Ask the model, publish the update, store the text on the trigger row; returns the text (or None)."""
        messages = [ChatMessage.system(PROMPT), ChatMessage("user", _facts(event))]
        reply = await asyncio.wait_for(self.llm.complete(messages, timeout=self.timeout), self.timeout)
        text = _clean(reply.content)
        if not text:
            return None
        await self.bus.publish(rationale_event(event, text))
        self.sent += 1
        trigger_id = (event.meta or {}).get("trigger_id")
        if trigger_id and await asyncio.wait_for(committed(), COMMIT_WAIT_SEC):
            async with self.db.uow() as session:
                await AlertRepository(session).set_rationale(trigger_id, text)
        return text
