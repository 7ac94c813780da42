"""The `discord` alert channel: the delivery engine hands each outbox row to `DiscordAlertNotifier.deliver`,
which posts the alert card (embed + chip buttons) to DISCORD_ALERT_CHANNEL_ID through the bot's REST client."""

from __future__ import annotations

import aiohttp
import discord

from bots.discord import render
from bots.discord.buttons import alert_view
from bots.discord.cogs.news import markdown_link, news_embed
from bots.news_text import news_alert_line, news_alert_title
from core.domain.deliveries import Delivery
from core.errors import ExternalPermanent, ExternalTransient, IntegrationDisabled


class DiscordAlertNotifier:
    channel = "discord"

    def __init__(self, client: discord.Client, channel_id: int | None) -> None:
        self.client = client
        self.channel_id = channel_id
        # trigger (or news item) id -> message id, so a retry in this process does not post twice
        self.sent: dict[str, int] = {}

    async def deliver(self, delivery: Delivery) -> None:
        if self.channel_id is None:
            raise IntegrationDisabled("discord", "DISCORD_ALERT_CHANNEL_ID is not set",
                                      "set DISCORD_ALERT_CHANNEL_ID to the id of the channel for alert cards")
        key = delivery.key
        if key and key in self.sent:
            return
        target = self.client.get_partial_messageable(self.channel_id)
        meta = delivery.meta
        view = alert_view(delivery)
        try:
            if meta.kind == "news":
                message = await target.send(embed=news_embed(news_alert_title(meta),
                                                             [news_alert_line(meta, markdown_link)]))
            elif view is None:
                message = await target.send(embed=render.alert_event_embed(delivery))
            else:
                message = await target.send(embed=render.alert_event_embed(delivery), view=view)
        except discord.RateLimited as exc:
            raise ExternalTransient("Discord rate limit", retry_after=exc.retry_after) from exc
        except discord.HTTPException as exc:
            if exc.status >= 500 or exc.status == 429:
                raise ExternalTransient(f"Discord answered {exc.status}") from exc
            raise ExternalPermanent(f"Discord refused the alert message ({exc.status}: {exc.text})") from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise ExternalTransient(f"Discord unreachable: {exc}") from exc
        if key:
            self.sent[key] = message.id
            if len(self.sent) > 10_000:
                self.sent.pop(next(iter(self.sent)))
