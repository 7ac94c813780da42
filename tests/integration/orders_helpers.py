"""Shared set-up for the order tests: a Tradier double with a small account, settings pointing at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from core.adapters.tradier.ratelimit import RateLimiter
from core.db.models import OrderIntentRow
from core.domain.orders import OrderRequest, OrderSide, OrderType
from core.runtime import Runtime
from core.settings import Settings, TradierSettings
from tests.doubles.tradier import ACCOUNT, TOKEN, TradierDouble

D = Decimal
AAPL_LAST = D("438.89")


def small_account(double: TradierDouble) -> TradierDouble:
    """One position (2 AAPL), so every risk limit has room for a small order."""
    double.positions = [{"cost_basis": 800.0, "date_acquired": "2024-06-03T14:41:11.405Z", "id": 1,
                         "quantity": 2.0, "symbol": "AAPL"}]
    return double


def broker_settings(make_settings: Callable[..., Settings], database_url: str, double: TradierDouble,
                    **overrides: Any) -> Settings:
    tradier = TradierSettings(_env_file=None, access_token=TOKEN, account_id=ACCOUNT,  # type: ignore[call-arg]
                              base_url=double.base_url)
    values: dict[str, Any] = {"database_url": database_url, "tradier": tradier, "traders": ["api", "discord:1"]}
    values.update(overrides)
    return make_settings(**values)


def buy_aapl(quantity: int = 1, **changes: Any) -> OrderRequest:
    fields: dict[str, Any] = {"symbol": "AAPL", "side": OrderSide.BUY, "quantity": D(quantity),
                              "type": OrderType.MARKET}
    fields.update(changes)
    return OrderRequest(**fields)


def placed(double: TradierDouble) -> list[dict[str, Any]]:
    """Orders the double accepted (previews are not orders)."""
    return list(double.orders.values())


def place_posts(double: TradierDouble) -> list[Any]:
    return [r for r in double.requests_to("POST", "/orders") if r.form.get("preview") != "true"]


def unthrottled(runtime: Runtime) -> Runtime:
    """Lift the client-side Tradier budget (10-request burst, then ~2/s) so tests do not wait on it; the budget
    itself is covered by tests/contract/test_tradier_ratelimit.py."""
    limiters = getattr(runtime.broker, "limiters", None)
    if limiters is not None:
        for name in limiters:
            limiters[name] = RateLimiter(100_000)
    return runtime


@asynccontextmanager
async def order_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """The API role over `settings`, unthrottled, resolving an ambiguous place within 3 s."""
    async with Runtime(settings, roles={"api"}) as runtime:
        unthrottled(runtime).orders.resolve_window = 3.0
        yield runtime


async def intent_row(rt: Runtime, intent_id: str) -> OrderIntentRow:
    async with rt.db.read() as session:
        row = await session.get(OrderIntentRow, intent_id)
    assert row is not None
    return row
