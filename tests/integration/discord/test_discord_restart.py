"""A bot whose gateway connection failed for good is rebuilt: the `discord` process keeps serving once the
gateway is back, and the new bot delivers the alert cards (it takes over the notifier)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from bots.discord import TradeBot, build_discord_bot, run_bot
from bots.discord.notifier import DiscordAlertNotifier
from core.runtime import Runtime
from tests.doubles.discord_api import DiscordApiDouble
from tests.doubles.discord_gateway import DiscordGatewayDouble

UNREACHABLE = "ws://127.0.0.1:9/"  # nothing listens on the discard port


async def wait_for(condition: Callable[[], bool], within: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "not within the time allowed"
        await asyncio.sleep(0.05)


async def test_a_bot_that_could_not_reach_the_gateway_is_rebuilt_and_connects(rt: Runtime,
                                                                               api: DiscordApiDouble) -> None:
    built: list[TradeBot] = []
    gateway = [UNREACHABLE]

    def build() -> TradeBot:
        rt.settings.discord.gateway_url = gateway[0]
        bot = build_discord_bot(rt, rt.settings)
        built.append(bot)
        return bot

    running = asyncio.create_task(run_bot(build, "test-token", backoff=(0.2,)))
    try:
        await wait_for(lambda: len(built) >= 2 or running.done())
        assert not running.done(), "run_bot gave up instead of building a new bot"
        async with DiscordGatewayDouble() as double:
            gateway[0] = double.url
            await double.wait_identified()
            await wait_for(built[-1].is_ready)
            notifier = rt.delivery.notifiers[DiscordAlertNotifier.channel]
            assert isinstance(notifier, DiscordAlertNotifier) and notifier.client is built[-1]
            assert all(bot.is_closed() for bot in built[:-1])
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
