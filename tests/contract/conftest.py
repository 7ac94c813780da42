"""Contract tests' shared doubles: Tradier, and Polygon with a REST client on it (`md`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from core.adapters.polygon.rest import PolygonMarketData
from tests.doubles.polygon import API_KEY, PolygonDouble
from tests.doubles.tradier import TradierDouble


@pytest.fixture
async def tradier() -> AsyncIterator[TradierDouble]:
    """A fresh local Tradier double (recorded responses) per test."""
    async with TradierDouble() as double:
        yield double


@pytest.fixture
async def pg() -> AsyncIterator[PolygonDouble]:
    async with PolygonDouble() as double:
        yield double


@pytest.fixture
async def md(pg: PolygonDouble) -> AsyncIterator[PolygonMarketData]:
    async with PolygonMarketData(pg.rest_url, SecretStr(API_KEY), timeout=2, backoff_max=0.05) as client:
        yield client
