"""The order tests' set-up: a Tradier double with a small account and settings pointing at it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.settings import Settings
from tests.doubles.tradier import TradierDouble
from tests.integration.orders_helpers import broker_settings


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str, tradier: TradierDouble) -> Settings:
    return broker_settings(make_settings, database_url, tradier)
