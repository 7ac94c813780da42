"""The fault-injection index (one module per fault group; every test names its fault, from the reliability test
plan, and what the trader sees). Fixtures: the Polygon double and a runtime's settings pointing at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from core.settings import DiscordSettings, PolygonSettings, Settings
from tests.doubles.polygon import API_KEY as POLYGON_KEY
from tests.doubles.polygon import PolygonDouble


@pytest.fixture
async def pg() -> AsyncIterator[PolygonDouble]:
    async with PolygonDouble() as double:
        double.market = "closed"  # no data watchdog unless a test opens the market
        yield double


@pytest.fixture
def make(make_settings: Callable[..., Settings], pg: PolygonDouble) -> Callable[..., Settings]:
    """Settings on SQLite with Polygon at the double (alert poller idle: the stream is the source)."""
    def _make(*, webhook: str | None = None, **overrides: Any) -> Settings:
        polygon = PolygonSettings(api_key=POLYGON_KEY, rest_url=pg.rest_url, ws_url=pg.ws_url)  # type: ignore[arg-type]
        discord = DiscordSettings(webhook_url=webhook)  # type: ignore[arg-type]
        return make_settings(**{"polygon": polygon, "discord": discord, "alert_poll_sec": 60, **overrides})
    return _make
