"""Contract tests' shared doubles."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.doubles.tradier import TradierDouble


@pytest.fixture
async def tradier() -> AsyncIterator[TradierDouble]:
    """A fresh local Tradier double (recorded responses) per test."""
    async with TradierDouble() as double:
        yield double
