"""`build_discord_bot(runtime, settings)`: the discord.py bot over the core.

`setup_hook` loads one cog per feature, puts the trader check of core.domain.access on every command, registers
the restart-proof `DynamicItem` buttons and the `discord` alert notifier. Commands are synced only by
`tradeassist sync-commands` (`sync_commands`), never on start.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import discord
import structlog
import yarl
from discord import app_commands
from discord.ext import commands

from bots.discord.access import install_trader_checks
from bots.discord.buttons import DYNAMIC_ITEMS
from bots.discord.cogs import build_cogs
from bots.discord.errors import reply_error
from bots.discord.expiry import PreviewExpiry
from bots.discord.notifier import DiscordAlertNotifier
from core.runtime import Runtime
from core.settings import Settings

log = structlog.get_logger("bots.discord")

MAX_RATELIMIT_WAIT_SEC = 30.0
RESTART_BACKOFF_SEC = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)


def configure_endpoints(settings: Settings) -> None:
    """Point discord.py's REST base (`Route.BASE`, also used by interaction webhooks) and its gateway at the
    configured URLs (DISCORD_API_URL, DISCORD_GATEWAY_URL)."""
    discord.http.Route.BASE = settings.discord.api_url.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord.gateway_url)


class TradeBot(commands.Bot):
    def __init__(self, runtime: Runtime, settings: Settings) -> None:
        intents = discord.Intents.default()
        super().__init__(command_prefix=commands.when_mentioned, intents=intents, help_command=None,
                         max_ratelimit_timeout=MAX_RATELIMIT_WAIT_SEC,
                         allowed_mentions=discord.AllowedMentions.none())
        self.runtime = runtime
        self.settings = settings
        self.previews = PreviewExpiry(runtime.orders)
        self.tree.error(self.on_app_command_error)

    async def setup_hook(self) -> None:
        for cog in build_cogs(self):
            await self.add_cog(cog)
        install_trader_checks(self.tree)
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        delivery = self.runtime.delivery
        existing = delivery.notifiers.get(DiscordAlertNotifier.channel)
        if isinstance(existing, DiscordAlertNotifier):  # a restarted bot in the same process takes it over
            existing.client = self
        else:
            delivery.register(DiscordAlertNotifier(self, self.settings.discord.alert_channel_id))
        log.info("discord.ready_to_serve", commands=[c.name for c in self.tree.get_commands()])

    async def close(self) -> None:
        self.previews.close()  # nothing of this bot keeps running after close
        await super().close()

    async def on_app_command_error(self, interaction: discord.Interaction[Any],
                                   error: app_commands.AppCommandError) -> None:
        """The one place a command's error becomes an (ephemeral) user message."""
        await reply_error(interaction, error)


def build_discord_bot(runtime: Runtime, settings: Settings) -> TradeBot:
    configure_endpoints(settings)
    return TradeBot(runtime, settings)


async def sync_commands(bot: commands.Bot, guild_ids: list[int]) -> dict[int, list[str]]:
    """Copy the commands to each guild and bulk-overwrite them there (instant; global sync is never used)."""
    synced: dict[int, list[str]] = {}
    for guild_id in guild_ids:
        guild = discord.Object(id=guild_id)
        bot.tree.copy_global_to(guild=guild)
        commands_ = await bot.tree.sync(guild=guild)
        synced[guild_id] = [c.name for c in commands_]
    return synced


async def run_bot(build: Callable[[], TradeBot], token: str,
                  backoff: Sequence[float] = RESTART_BACKOFF_SEC) -> None:
    """Keep a bot connected until cancelled. discord.py resumes a session it has, but a bot whose connection
    failed for good (gateway unreachable at start, a reconnect that gave up) has closed its HTTP session and
    cannot be started again: a new one is built after a growing pause, and takes over the alert notifier. A
    refused token ends it, since retrying cannot help."""
    failures = 0
    while True:
        bot = build()
        try:
            await bot.start(token)
            return  # closed on purpose
        except discord.LoginFailure:
            raise
        except Exception as exc:  # any other way the connection ended: build a new bot
            pause = backoff[min(failures, len(backoff) - 1)]
            failures += 1
            log.warning("discord.restarting", error=f"{type(exc).__name__}: {exc}", attempt=failures,
                        retry_in_s=pause)
        finally:
            await bot.close()
        await asyncio.sleep(pause)
