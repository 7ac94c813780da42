"""Previews that nobody answers: when an intent's confirm TTL elapses, its ephemeral preview loses its buttons and
says it expired.

One task per shown preview, keyed by intent id: Confirm/Cancel settle it (`settle`), bot close cancels them all
(`close`). The edit goes through the interaction webhook of the preview (valid 15 minutes), so a preview whose TTL
is longer than that is left as is (Confirm still answers "expired" then). A restarted process does not know the
old previews: their buttons stay until clicked, and the click is refused as expired.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import discord
import structlog

from bots.discord import render
from core.domain.order_text import intent_line
from core.errors import CoreError
from core.services.orders import OrderService

log = structlog.get_logger("bots.discord.expiry")

WEBHOOK_TOKEN_SEC = 15 * 60 - 30  # interaction tokens live 15 minutes; keep a margin
EXPIRED_TITLE = "Order preview expired: nothing was sent"


class PreviewExpiry:
    def __init__(self, orders: OrderService) -> None:
        self._orders = orders
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def __len__(self) -> int:
        return len(self._tasks)

    @property
    def tasks(self) -> tuple[asyncio.Task[None], ...]:
        """The running timers (one per unanswered preview)."""
        return tuple(self._tasks.values())

    def watch(self, intent_id: str, expires_at: datetime, message: discord.WebhookMessage) -> None:
        """Expire `message` (the preview of `intent_id`) at `expires_at` unless settled first."""
        if expires_at.tzinfo is None:  # SQLite hands back naive UTC
            expires_at = expires_at.replace(tzinfo=UTC)
        delay = (expires_at - datetime.now(UTC)).total_seconds()
        if delay > WEBHOOK_TOKEN_SEC:
            return
        self.settle(intent_id)
        task = asyncio.get_running_loop().create_task(self._expire(intent_id, max(delay, 0.0), message),
                                                      name=f"discord-preview-expiry-{intent_id}")
        self._tasks[intent_id] = task
        task.add_done_callback(lambda done: self._forget(intent_id, done))

    def settle(self, intent_id: str) -> None:
        """The preview was answered (Confirm / Cancel): its expiry is no longer needed."""
        task = self._tasks.pop(intent_id, None)
        if task is not None:
            task.cancel()

    def close(self) -> None:
        for intent_id in list(self._tasks):
            self.settle(intent_id)

    def _forget(self, intent_id: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(intent_id) is task:
            del self._tasks[intent_id]

    async def _expire(self, intent_id: str, delay: float, message: discord.WebhookMessage) -> None:
        await asyncio.sleep(delay)
        try:
            intent = await self._orders.get_intent(intent_id)
            if intent.status not in ("PENDING", "EXPIRED"):
                return  # answered elsewhere (another process, the REST API): that answer edited or will say so
            text = f"{intent_line(intent)}\nPropose it again if you still want it."
            await message.edit(embed=render.notice_embed(EXPIRED_TITLE, text), view=None)
        except (CoreError, discord.HTTPException) as exc:
            log.warning("discord.preview_expiry_failed", intent_id=intent_id, error=str(exc))
