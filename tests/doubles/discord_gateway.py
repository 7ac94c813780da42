"""A local Discord gateway (websockets' server on 127.0.0.1): just enough of the protocol for discord.py to
connect and stay connected: HELLO, READY for an IDENTIFY, RESUMED for a RESUME, an ACK for each heartbeat. It
sends JSON text frames (discord.py takes those uncompressed) and dispatches no events of its own; tests inject
interactions into the bot directly (tests/doubles/discord_api.py).

    async with DiscordGatewayDouble() as gateway:
        ... DISCORD_GATEWAY_URL=gateway.url ...
        await gateway.wait_identified()
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from tests.doubles.discord_api import APP_ID, BOT_ID, user

HELLO, IDENTIFY, RESUME, HEARTBEAT, HEARTBEAT_ACK, DISPATCH = 10, 2, 6, 1, 11, 0
HEARTBEAT_MS = 41_250  # what Discord sends


class DiscordGatewayDouble:
    def __init__(self) -> None:
        self.url = ""
        self.identified = 0
        self._identify = asyncio.Event()
        self._server: Server | None = None

    async def __aenter__(self) -> DiscordGatewayDouble:
        self._server = await serve(self._session, "127.0.0.1", 0, ping_interval=None)
        self.url = f"ws://127.0.0.1:{next(iter(self._server.sockets)).getsockname()[1]}/"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def wait_identified(self, within: float = 20.0) -> None:
        await asyncio.wait_for(self._identify.wait(), within)

    async def _session(self, conn: ServerConnection) -> None:
        sequence = 0

        async def send(op: int, data: Any, event: str | None = None) -> None:
            nonlocal sequence
            if op == DISPATCH:
                sequence += 1
            await conn.send(json.dumps({"op": op, "d": data, "s": sequence if op == DISPATCH else None,
                                        "t": event}))

        try:
            await send(HELLO, {"heartbeat_interval": HEARTBEAT_MS})
            async for raw in conn:
                message = json.loads(raw)
                if message["op"] == HEARTBEAT:
                    await send(HEARTBEAT_ACK, None)
                elif message["op"] == IDENTIFY:
                    await send(DISPATCH, {"v": 10, "user": user(BOT_ID, "tradeassist", bot=True), "guilds": [],
                                          "session_id": "double-session", "resume_gateway_url": self.url,
                                          "application": {"id": str(APP_ID), "flags": 0}}, "READY")
                    self.identified += 1
                    self._identify.set()
                elif message["op"] == RESUME:
                    await send(DISPATCH, {}, "RESUMED")
        except ConnectionClosed:
            return
