"""Discord Execute Webhook notifier: alert copies as one embed, for the ``discord_webhook`` delivery channel.

``POST {DISCORD_WEBHOOK_URL}?wait=true`` with an embed (level colour, symbol, price, condition, time, the action
chips as text lines linking to the dashboard) and ``allowed_mentions: {"parse": []}`` so an alert note can never
ping anyone. Rate limits: a 429 carries ``retry_after`` (seconds, JSON body; ``Retry-After``
header as fallback), raised as ``ExternalTransient(retry_after=...)`` so the delivery engine waits exactly that;
``X-RateLimit-Remaining: 0`` with ``X-RateLimit-Reset-After`` holds the next send until the bucket resets.
The webhook URL holds its token: it never appears in a log line or an error message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import httpx
import orjson
import structlog

from core.adapters.error_map import SERVER_ERROR, ErrorTable, Fault, core_error
from core.domain.actions import AlertChip
from core.domain.deliveries import Delivery
from core.domain.events import AlertMeta
from core.errors import ExternalPermanent, ExternalTransient

log = structlog.get_logger("adapter.discord_webhook")

ERRORS: ErrorTable = (
    (429, lambda f: ExternalTransient("discord webhook rate limited", retry_after=f.retry_after)),
    (SERVER_ERROR, lambda f: ExternalTransient(f"discord webhook {f.status}: {f.reason}")),
    (int, lambda f: ExternalPermanent(f"discord webhook refused the alert ({f.status}: {f.reason})",
                                      details=f.details)),
)

COLOURS = {"info": 0x3498DB, "warning": 0xF1C40F, "critical": 0xE74C3C}
MAX_INLINE_WAIT_SEC = 2.0
_TITLE, _DESCRIPTION, _FIELD, _TOTAL = 256, 4096, 1024, 6000
_CONDITIONS = {"price_above": "above", "price_below": "below"}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _chip_line(chip: AlertChip, link: str) -> str:
    order, detail = chip.order, ""
    if order is not None:
        price = f" @ {order.price}" if order.price else ""
        price = price or (f" stop {order.stop}" if order.stop else "")
        detail = f": {order.side} {order.quantity} {order.symbol} {order.type}{price}"
    elif chip.plan is not None:
        detail = f": {chip.plan.side} entry {chip.plan.entry} stop {chip.plan.stop}"
    needs = f" (needs {chip.needs})" if chip.needs else ""
    return f"• [{chip.label}]({link}&action={chip.id}){detail}{needs}"


def news_message(meta: AlertMeta) -> dict[str, Any]:
    """A news item as one embed: its own title, link, source and publication time, unchanged."""
    symbols = ", ".join(meta.symbols or ()) or "?"
    source = (meta.source or "?") + (f" ({meta.publisher})" if meta.publisher else "")
    embed: dict[str, Any] = {
        "title": _cut(meta.title or "News", _TITLE), "url": meta.url or "",
        "color": COLOURS["info"], "timestamp": meta.published_at or "",
        "fields": [{"name": "Symbols", "value": _cut(symbols, _FIELD), "inline": True},
                   {"name": "Source", "value": _cut(source, _FIELD), "inline": True},
                   {"name": "Published", "value": meta.published_at or "?", "inline": True}],
        "footer": {"text": "Trading Assistant · news"},
    }
    return {"embeds": [embed], "allowed_mentions": {"parse": []}}


def build_message(delivery: Delivery, dashboard_url: str) -> dict[str, Any]:
    """The Execute Webhook body for one delivered alert or news item (pure; Discord's length limits respected)."""
    meta = delivery.meta
    if meta.kind == "news":
        return news_message(meta)
    alert_id = meta.alert_id or delivery.alert_id or ""
    link = f"{dashboard_url.rstrip('/')}/#alerts?alert={alert_id}"
    side = _CONDITIONS.get(meta.condition or "", meta.condition or "")
    when = meta.fired_at or delivery.triggered_at.isoformat()
    fields = [
        {"name": "Symbol", "value": meta.symbol or "?", "inline": True},
        {"name": "Price", "value": meta.price or "?", "inline": True},
        {"name": "Condition", "value": _cut(f"{side} {meta.level or ''} ({meta.kind or 'crossed'})", 256),
         "inline": True},
        {"name": "Time", "value": when, "inline": True},
    ]
    if meta.late:
        fields.append({"name": "Late", "value": "delivered late: the data arrived after the fact", "inline": True})
    if meta.note:
        fields.append({"name": "Note", "value": _cut(meta.note, _FIELD), "inline": False})
    chips = [_chip_line(chip, link) for chip in meta.actions or ()]
    description = "\n".join(chips) if chips else f"[Open the dashboard]({link})"
    embed: dict[str, Any] = {
        "title": _cut(delivery.msg or "Alert", _TITLE),
        "description": _cut(description, 2000),
        "color": COLOURS.get(delivery.level, COLOURS["info"]),
        "fields": fields,
        "url": link,
        "footer": {"text": f"Trading Assistant · alert {alert_id}"},
        "timestamp": when,
    }
    return {"embeds": [embed], "allowed_mentions": {"parse": []}}


def _float(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class DiscordWebhookNotifier:
    """The ``discord_webhook`` channel (a `core.ports.Notifier`)."""

    channel = "discord_webhook"

    def __init__(self, url: str, *, dashboard_url: str, alert_types: Sequence[str] = (), timeout: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._url = url
        self.dashboard_url = dashboard_url
        self.alert_types = tuple(alert_types)
        self._client = httpx.AsyncClient(timeout=timeout, transport=transport,
                                         headers={"User-Agent": "TradingAssistant (alerts, 0.1)"})
        self._blocked_until = 0.0
        self.sent = 0

    async def aclose(self) -> None:
        await self._client.aclose()

    async def deliver(self, delivery: Delivery) -> None:
        if self.alert_types and delivery.meta.kind not in self.alert_types:
            return  # filtered out by DISCORD_WEBHOOK_ALERT_TYPES: nothing to send, the row is done
        wait = self._blocked_until - time.monotonic()
        if wait > MAX_INLINE_WAIT_SEC:
            raise ExternalTransient("discord webhook rate limit bucket empty", retry_after=wait)
        if wait > 0:
            await asyncio.sleep(wait)
        try:
            response = await self._client.post(self._url, params={"wait": "true"},
                                               content=orjson.dumps(build_message(delivery, self.dashboard_url)),
                                               headers={"Content-Type": "application/json"})
        except httpx.TransportError as exc:  # str(exc) may name the URL: keep only the type
            raise ExternalTransient(f"discord webhook unreachable ({type(exc).__name__})") from None
        self._note_bucket(response)
        status = response.status_code
        if status < 300:
            self.sent += 1
            return
        body = self._json(response)
        if status == 429:
            retry_after = _float(body.get("retry_after")) or _float(response.headers.get("Retry-After")) or 1.0
            self._blocked_until = max(self._blocked_until, time.monotonic() + retry_after)
            log.warning("discord_webhook.rate_limited", retry_after=retry_after, is_global=bool(body.get("global")))
            raise core_error(ERRORS, Fault("discord webhook", status, retry_after=retry_after))
        raise core_error(ERRORS, Fault("discord webhook", status, reason=str(body.get("message") or
                                                                         response.reason_phrase),
                                       details={"status": status, "code": body.get("code")}))

    def _note_bucket(self, response: httpx.Response) -> None:
        remaining = _float(response.headers.get("X-RateLimit-Remaining"))
        reset_after = _float(response.headers.get("X-RateLimit-Reset-After"))
        if remaining is not None and remaining <= 0 and reset_after is not None:
            self._blocked_until = max(self._blocked_until, time.monotonic() + reset_after)

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}
