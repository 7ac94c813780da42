"""The Slack test rig: helpers that build signed slash commands, block_actions clicks and events the way Slack sends
them, and run the FastAPI app with the Slack role. The fixtures (slack, tradier, pg, settings, app, http) are in
this folder's conftest.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from api.app import create_app
from core.runtime import Runtime
from core.settings import Settings
from tests.doubles.slack_api import TEAM_ID, SlackDouble
from tests.integration.orders_helpers import unthrottled

SECRET = "slack-signing-secret-0123456789"
TRADER = "U0TRADER"
OTHER = "U0OTHER"
CHANNEL = "C0ALERTS"


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[FastAPI]:
    """The API process with the Slack role (plus the engine) started over `settings`."""
    application = create_app(settings, roles=frozenset({"api", "engine", "slack"}))
    async with application.router.lifespan_context(application):
        unthrottled(application.state.runtime).orders.resolve_window = 3.0
        yield application


@asynccontextmanager
async def client_of(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                 timeout=10) as client:
        yield client


def runtime_of(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


def sign(body: str, ts: int | None = None, secret: str = SECRET) -> dict[str, str]:
    stamp = str(int(time.time()) if ts is None else ts)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}",
            "Content-Type": "application/x-www-form-urlencoded"}


def command(slack: SlackDouble, text: str, key: str, user: str = TRADER) -> str:
    return urlencode({"token": "legacy", "team_id": TEAM_ID, "team_domain": "test", "channel_id": "C0CHAN",
                      "channel_name": "trading", "user_id": user, "user_name": "trader", "command": "/ta",
                      "text": text, "api_app_id": "A0APP", "response_url": slack.response_url(key),
                      "trigger_id": "1.2.abc"})


def click(slack: SlackDouble, action_id: str, value: str, key: str, user: str = TRADER) -> str:
    payload = {"type": "block_actions", "team": {"id": TEAM_ID, "domain": "test"},
               "user": {"id": user, "username": "trader", "team_id": TEAM_ID}, "api_app_id": "A0APP",
               "token": "legacy", "trigger_id": "1.2.def", "channel": {"id": "C0CHAN", "name": "trading"},
               "container": {"type": "message", "message_ts": "1.1", "channel_id": "C0CHAN", "is_ephemeral": True},
               "response_url": slack.response_url(key),
               "actions": [{"type": "button", "action_id": action_id, "block_id": "order_actions",
                            "value": value, "action_ts": str(time.time())}]}
    return urlencode({"payload": json.dumps(payload)})


async def post(http: httpx.AsyncClient, body: str, **headers: str) -> httpx.Response:
    return await http.post("/slack/events", content=body, headers={**sign(body), **headers})


async def count(rt: Runtime, model: Any) -> int:
    async with rt.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def button(blocks: list[dict[str, Any]], action_id: str) -> dict[str, Any]:
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return dict(element)
    raise AssertionError(f"no {action_id} button in {blocks}")


def event(slack_event: dict[str, Any], event_id: str) -> str:
    """An Events API `event_callback` body (JSON) around `slack_event`."""
    return json.dumps({"token": "legacy", "team_id": TEAM_ID, "api_app_id": "A0APP", "type": "event_callback",
                       "event_id": event_id, "event_time": int(time.time()), "event": slack_event})


async def post_event(http: httpx.AsyncClient, body: str) -> httpx.Response:
    return await http.post("/slack/events", content=body, headers={**sign(body), "Content-Type": "application/json"})
