"""The Discord bot test fixtures: the fake Discord REST server, the Tradier double with a small account, settings
on the parametrized database (SQLite and PostgreSQL), a runtime and a logged-in bot.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import discord
import pytest
import yarl

from bots.discord import TradeBot
from core.runtime import Runtime
from core.settings import DiscordSettings, Settings
from tests.doubles.discord_api import ALERT_CHANNEL_ID, GUILD_ID, DiscordApiDouble
from tests.doubles.tradier import TradierDouble
from tests.integration.discord.rig import logged_in, running
from tests.integration.orders_helpers import broker_settings


@pytest.fixture
async def api(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DiscordApiDouble]:
    async with DiscordApiDouble() as double:
        # the factory sets these globals from the settings; monkeypatch puts the originals back afterwards
        monkeypatch.setattr(discord.http.Route, "BASE", double.base_url)
        monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL("ws://127.0.0.1:9/"))
        yield double


@pytest.fixture
def make(make_settings: Callable[..., Settings], database_url: str, tradier: TradierDouble,
         api: DiscordApiDouble) -> Callable[..., Settings]:
    def _make(**overrides: Any) -> Settings:
        discord_settings = DiscordSettings(  # type: ignore[call-arg]
            _env_file=None, bot_token="test-token", guild_ids=[GUILD_ID], alert_channel_id=ALERT_CHANNEL_ID,
            api_url=api.base_url, gateway_url="ws://127.0.0.1:9/")
        return broker_settings(make_settings, database_url, tradier, discord=discord_settings, **overrides)
    return _make


@pytest.fixture
async def rt(make: Callable[..., Settings]) -> AsyncIterator[Runtime]:
    async with running(make()) as runtime:
        yield runtime


@pytest.fixture
async def bot(rt: Runtime) -> AsyncIterator[TradeBot]:
    async with logged_in(rt) as client:
        yield client
