"""The Slack tests' fixtures: the FastAPI app with the Slack role over the Slack, Tradier and Polygon doubles
(module-level here, so they override the generic `settings`/`app` of tests/conftest.py for this folder only)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI

from core.settings import PolygonSettings, Settings, SlackSettings
from tests.doubles.polygon import API_KEY as POLYGON_KEY
from tests.doubles.polygon import PolygonDouble
from tests.doubles.slack_api import BOT_TOKEN, TEAM_ID, SlackDouble
from tests.doubles.tradier import TradierDouble
from tests.integration.orders_helpers import broker_settings
from tests.integration.slack.rig import CHANNEL, OTHER, SECRET, TRADER, client_of, running


@pytest.fixture
async def slack() -> AsyncIterator[SlackDouble]:
    async with SlackDouble() as double:
        yield double


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str, tradier: TradierDouble,
             slack: SlackDouble, pg: PolygonDouble) -> Settings:
    slack_settings = SlackSettings(_env_file=None, bot_token=BOT_TOKEN, signing_secret=SECRET,  # type: ignore[call-arg]
                                   alert_channel=CHANNEL, api_url=slack.api_url)
    polygon = PolygonSettings(api_key=POLYGON_KEY, rest_url=pg.rest_url, ws_url=pg.ws_url)
    return broker_settings(make_settings, database_url, tradier, slack=slack_settings, polygon=polygon,
                           traders=["api", f"slack:{TEAM_ID}:{TRADER}", f"slack:{TEAM_ID}:{OTHER}"])


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    async with running(settings) as application:
        yield application


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(app) as client:
        yield client
