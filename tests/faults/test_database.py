"""Fault 14 of the reliability test plan: the database is locked (SQLite `database is locked`: another writer
holds it past the busy timeout). Alerts keep being published, the trigger writer retries until its batch is
committed (once), and an order confirmation fails closed: nothing reaches the broker."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.engine import make_url
from structlog.testing import capture_logs

from core.db.models import OrderIntentRow
from core.errors import ExternalTransient
from core.runtime import Runtime
from core.settings import Settings
from tests.doubles.polygon import PolygonDouble
from tests.doubles.tradier import TradierDouble
from tests.integration.orders_helpers import broker_settings, buy_aapl, place_posts, small_account, unthrottled
from tests.integration.test_alert_pipeline import next_alert, trade, triggers


@pytest.fixture
async def tradier() -> AsyncIterator[TradierDouble]:
    async with TradierDouble() as double:
        yield small_account(double)


@contextmanager
def locked(database_url: str) -> Iterator[None]:
    """Another connection (as another process would) holds SQLite's write lock until the block ends."""
    other = sqlite3.connect(str(make_url(database_url).database), isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN EXCLUSIVE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()


async def test_fault_14_database_locked_alerts_still_publish_the_writer_retries_once_and_orders_fail_closed(
        make: Callable[..., Settings], pg: PolygonDouble, tradier: TradierDouble) -> None:
    """Fault 14: while another writer holds the SQLite database past the busy timeout, the trader still gets the
    alert at once; the confirmation of a pending order fails with an error and sends nothing (the intent stays
    PENDING); once the lock is gone the trigger writer's retry commits the fire exactly once."""
    settings = broker_settings(make, make().database_url, tradier)
    async with Runtime(settings, roles={"api", "engine"}) as rt:
        unthrottled(rt)
        sub = rt.bus.subscribe(["alert"], name="trader")
        created = await rt.alerts.create({"symbol": "SPY", "condition": "price_above", "level": "500"})
        await pg.wait_until(lambda: "T.SPY" in pg.subscriptions)
        proposal = await rt.orders.propose("api", buy_aapl())
        assert proposal.intent is not None and proposal.token is not None
        intent_id = proposal.intent.id
        with capture_logs() as logs:
            with locked(settings.database_url):
                await pg.push([trade("SPY", 499.0), trade("SPY", 500.5)])
                event = await next_alert(sub, within=3.0)  # published before (and whatever) the commit does
                assert event.meta is not None and event.meta.alert_id == created.id
                # a retryable 503 that says what happened, not an unexpected error
                with pytest.raises(ExternalTransient, match=r"locked by another writer; nothing was changed"):
                    await rt.orders.confirm(intent_id, proposal.token, "api")
                assert place_posts(tradier) == []
            for _ in range(400):
                if await triggers(rt):
                    break
                await asyncio.sleep(0.05)
        assert any(log["event"] == "alerts.write_failed" for log in logs)  # the writer did fail, and retried
        assert [t.alert_id for t in await triggers(rt)] == [created.id]
        async with rt.db.read() as session:
            row = await session.get(OrderIntentRow, intent_id)
        assert row is not None and row.status == "PENDING"
        assert place_posts(tradier) == []
        await sub.close()
