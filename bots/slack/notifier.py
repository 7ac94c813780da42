"""The `slack` alert channel: outbox rows -> a Block Kit card in SLACK_ALERT_CHANNEL via chat.postMessage.

Slack's 429 becomes `ExternalTransient(retry_after=<Retry-After>)` so the delivery engine backs off as told;
5xx and network faults are transient too; any other Slack error (channel_not_found, not_in_channel,
invalid_auth) is permanent and marks the row failed with the reason.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.blocks import alert_card, fallback
from bots.slack.blocks_news import news_alert_card
from core.domain.deliveries import Delivery
from core.errors import ExternalPermanent, ExternalTransient

PERMANENT_HINTS = {
    "channel_not_found": "check SLACK_ALERT_CHANNEL (a channel id like C0123)",
    "not_in_channel": "invite the app to SLACK_ALERT_CHANNEL (/invite @Trading Assistant)",
    "invalid_auth": "check SLACK_BOT_TOKEN",
}


class SlackNotifier:
    channel = "slack"

    def __init__(self, client: AsyncWebClient, alert_channel: str) -> None:
        self.client = client
        self.alert_channel = alert_channel

    async def deliver(self, delivery: Delivery) -> None:
        text = fallback(delivery.msg or "Alert")
        meta = delivery.meta
        blocks = news_alert_card(meta) if meta.kind == "news" else alert_card(delivery)
        try:
            await self.client.chat_postMessage(channel=self.alert_channel, text=text, blocks=blocks,
                                               unfurl_links=False, unfurl_media=False)
        except SlackApiError as exc:
            raise _map(exc) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ExternalTransient(f"Slack unreachable: {exc}") from exc


def _map(exc: SlackApiError) -> ExternalTransient | ExternalPermanent:
    status = exc.response.status_code
    error = str(exc.response.get("error", "")) if isinstance(exc.response.data, dict) else ""
    if status == 429 or error == "ratelimited":
        retry_after = _retry_after(exc.response.headers)
        return ExternalTransient("Slack rate limit (429)", retry_after=retry_after)
    if status >= 500:
        return ExternalTransient(f"Slack answered {status}")
    hint = PERMANENT_HINTS.get(error)
    return ExternalPermanent(f"Slack refused the alert: {error or status}" + (f" ({hint})" if hint else ""))


def _retry_after(headers: Any) -> float | None:
    for key, value in dict(headers or {}).items():
        if str(key).lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return float(raw)
            except (TypeError, ValueError):
                return None
    return None
