"""Socket Mode: the same AsyncApp fed over Slack's outbound WebSocket instead of signed HTTP requests.

Chosen when SLACK_APP_TOKEN (`xapp-...`, scope `connections:write`) is set; no public URL is needed then. The
handler is Bolt's default aiohttp variant (`slack_bolt.adapter.socket_mode.async_handler`: aiohttp is already a
dependency, `websockets` would be a second WebSocket stack). It runs as the runtime task `slack-socket`, so
`Runtime.stop()` cancels it and the `finally` closes the WebSocket and its aiohttp session. The slack_sdk client
reconnects by itself (`apps.connections.open` again) when Slack rotates or drops the connection.
"""

from __future__ import annotations

import asyncio

import structlog
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from core.runtime import Runtime

log = structlog.get_logger("bots.slack.socket")
TASK_NAME = "slack-socket"


async def run_socket_mode(app: AsyncApp, app_token: str) -> None:
    """Connect and stay connected until cancelled; always release the connection on the way out."""
    handler = AsyncSocketModeHandler(app, app_token)
    try:
        try:
            await handler.connect_async()  # type: ignore[no-untyped-call]  # slack_bolt leaves these unannotated
        except SlackApiError as exc:  # a wrong or revoked token: say what to fix, keep HTTP mode running
            log.error("slack.socket_refused", error=exc.response.get("error"),
                      how_to_fix="check SLACK_APP_TOKEN: an app-level token (xapp-...) with connections:write")
            return
        log.info("slack.socket_connected")
        await asyncio.Event().wait()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
        log.info("slack.socket_closed")


def start_socket_mode(runtime: Runtime, app: AsyncApp, app_token: str) -> None:
    runtime.spawn(run_socket_mode(app, app_token), name=TASK_NAME)
