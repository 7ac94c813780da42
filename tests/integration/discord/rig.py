"""What the Discord bot tests share: a runtime and a logged-in bot as context managers, interaction injection and
waiting for the fake's answers. The fixtures (api, tradier, make, rt, bot) are in this folder's conftest.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import discord

from bots.discord import TradeBot, build_discord_bot
from core.runtime import Runtime
from core.settings import Settings
from tests.doubles.discord_api import DiscordApiDouble
from tests.integration.orders_helpers import unthrottled

EPHEMERAL = 64
TRADER, OTHER = 1, 2


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Runtime]:
    async with Runtime(settings, roles={"discord"}) as rt:
        unthrottled(rt).orders.resolve_window = 3.0
        yield rt


@asynccontextmanager
async def logged_in(rt: Runtime) -> AsyncIterator[TradeBot]:
    bot = build_discord_bot(rt, rt.settings)
    await bot.login("test-token")  # REST only (the fake); runs setup_hook; no gateway connection
    try:
        yield bot
    finally:
        await bot.close()


def inject(bot: discord.Client, payload: dict[str, Any]) -> dict[str, Any]:
    bot._connection.parse_interaction_create(payload)
    return payload


async def first_callback(api: DiscordApiDouble, interaction: dict[str, Any]) -> dict[str, Any]:
    calls = await api.wait_for(lambda: api.callbacks(interaction))
    body: dict[str, Any] = calls[0].json
    return body


async def first_followup(api: DiscordApiDouble, interaction: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what the bot sent, the message the fake answered with)."""
    calls = await api.wait_for(lambda: api.followups(interaction))
    return calls[0].json, calls[0].answer
