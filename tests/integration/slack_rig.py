"""The Slack test rig: the FastAPI app with the Slack role over the Slack, Tradier and Polygon doubles, and helpers
that build signed slash commands, block_actions clicks and events the way Slack sends them.

Test modules take the fixtures with `from tests.integration.slack_rig import *` (exactly `__all__`): module-level
fixtures override the generic `settings`/`app` of tests/conftest.py, which a `pytest_plugins` entry would not.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from api.app import create_app
from core.runtime import Runtime
from core.settings import PolygonSettings, Settings, SlackSettings
from tests.doubles.polygon import API_KEY as POLYGON_KEY
from tests.doubles.polygon import PolygonDouble
from tests.doubles.slack_api import BOT_TOKEN, TEAM_ID, SlackDouble
from tests.doubles.tradier import TradierDouble
from tests.integration.orders_helpers import broker_settings, small_account, unthrottled

__all__ = ["app", "http", "pg", "settings", "slack", "tradier"]

SECRET = "slack-signing-secret-0123456789"
TRADER = "U0TRADER"
OTHER = "U0OTHER"
CHANNEL = "C0ALERTS"


@pytest.fixture
async def slack() -> AsyncIterator[SlackDouble]:
    async with SlackDouble() as double:
        yield double


@pytest.fixture
async def tradier() -> AsyncIterator[TradierDouble]:
    async with TradierDouble() as double:
        yield small_account(double)


@pytest.fixture
async def pg() -> AsyncIterator[PolygonDouble]:
    async with PolygonDouble() as double:
        double.market = "closed"
        yield double


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str, tradier: TradierDouble,
             slack: SlackDouble, pg: PolygonDouble) -> Settings:
    slack_settings = SlackSettings(_env_file=None, bot_token=BOT_TOKEN, signing_secret=SECRET,  # type: ignore[call-arg]
                                   alert_channel=CHANNEL, api_url=slack.api_url)
    polygon = PolygonSettings(api_key=POLYGON_KEY, rest_url=pg.rest_url, ws_url=pg.ws_url)
    return broker_settings(make_settings, database_url, tradier, slack=slack_settings, polygon=polygon,
                           traders=["api", f"slack:{TEAM_ID}:{TRADER}", f"slack:{TEAM_ID}:{OTHER}"])


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


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    async with running(settings) as application:
        yield application


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(app) as client:
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
