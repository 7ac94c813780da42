"""Faults 8-10 of the reliability test plan: Tradier misbehaves while an order is placed, or the process dies in
the middle of it. Through the OrderService (and its tracker) against the Tradier double, on SQLite and
PostgreSQL. What the trader must be able to rely on: at most one order at the broker per confirmed intent, and
an intent whose state says what happened (never "failed" for an order that is live, never resent blindly)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import select, update

from core.db.models import JournalEntry, OrderIntentRow
from core.domain.events import AlertEvent
from core.engines.orders import OrderTracker
from core.runtime import Runtime
from core.services.orders import OrderService
from core.settings import Settings
from tests.doubles.tradier import TradierDouble
from tests.integration.orders_helpers import (
    broker_settings,
    buy_aapl,
    intent_row,
    order_runtime,
    place_posts,
    placed,
    small_account,
    unthrottled,
)


@pytest.fixture
async def tradier() -> AsyncIterator[TradierDouble]:
    async with TradierDouble() as double:
        yield small_account(double)


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str, tradier: TradierDouble) -> Settings:
    return broker_settings(make_settings, database_url, tradier)


@pytest.fixture
async def rt(settings: Settings) -> AsyncIterator[Runtime]:
    async with order_runtime(settings) as runtime:
        yield runtime


async def _set_status(rt: Runtime, intent_id: str, status: str) -> None:
    async with rt.db.uow() as session:
        await session.execute(update(OrderIntentRow).where(OrderIntentRow.id == intent_id).values(status=status))


async def _journal(rt: Runtime) -> list[str]:
    async with rt.db.read() as session:
        rows = await session.scalars(select(JournalEntry).where(JournalEntry.kind == "order")
                                     .order_by(JournalEntry.created_at))
        return [row.body for row in rows]


async def _propose(service: OrderService) -> tuple[str, str]:
    result = await service.propose("api", buy_aapl(), rationale="breakout over 438", source="test")
    assert result.intent is not None and result.token is not None, result.risk
    return result.intent.id, result.token


async def test_fault_8_place_times_out_after_the_broker_accepted_one_order_resolved_by_tag(
        rt: Runtime, tradier: TradierDouble) -> None:
    """Fault 8: Tradier accepts the order, then the connection drops before the answer. The trader sees the order
    as submitted (found at the broker by its tag); exactly one order exists and it was sent once."""
    intent_id, token = await _propose(rt.orders)
    tradier.fail("drop_after_accept", method="POST", path="/orders")
    result = await rt.orders.confirm(intent_id, token, "api")
    assert result.outcome == "submitted"
    assert len(placed(tradier)) == 1 and len(place_posts(tradier)) == 1
    row = await intent_row(rt, intent_id)
    assert row.status == "SUBMITTED" and row.broker_order_id == str(placed(tradier)[0]["id"])
    bodies = await _journal(rt)
    assert any(b.startswith("UNKNOWN") for b in bodies)
    assert "found at the broker by tag" in bodies[-1]


# What each answer to the place request means for the trader (the state machine of the order protocol): the
# outcome shown, the intent's state, and whether the reason names what the broker said.
PLACE_FAULTS: list[tuple[str, dict[str, Any], str, str]] = [
    ("errors_200", {"message": "Backoffice rejected override"}, "rejected", "REJECTED"),
    ("status", {"status": 429, "message": "Rate limit exceeded", "expiry_ms": 500}, "failed", "FAILED"),
    ("status", {"status": 503}, "unknown", "UNKNOWN"),
    ("malformed", {}, "unknown", "UNKNOWN"),
]


@pytest.mark.parametrize(("kind", "options", "outcome", "status"), PLACE_FAULTS,
                         ids=["200_with_errors", "429", "5xx", "malformed_json"])
async def test_fault_9_broker_errors_429_5xx_and_malformed_answers_place_nothing_and_are_never_resent(
        rt: Runtime, tradier: TradierDouble, kind: str, options: dict[str, Any], outcome: str,
        status: str) -> None:
    """Fault 9: the place request is answered 200 with `errors`, 429 with rate-limit headers, 5xx, or a body that
    is not JSON. The trader sees the broker's reason for a rejection; an answer that does not say whether the
    order exists is UNKNOWN (looked up by tag, then a human is alerted), never resent; nothing is placed."""
    rt.orders.resolve_window = 0.6
    intent_id, token = await _propose(rt.orders)
    tradier.fail(kind, method="POST", path="/orders", **options)
    result = await rt.orders.confirm(intent_id, token, "api")
    assert (result.outcome, (await intent_row(rt, intent_id)).status) == (outcome, status), result
    if kind == "errors_200":
        assert "Backoffice rejected override" in (result.reason or "")
    assert placed(tradier) == [] and len(place_posts(tradier)) == 1


async def test_fault_10_crash_between_send_and_response_is_reconciled_by_tag_on_restart(
        settings: Settings, tradier: TradierDouble) -> None:
    """Fault 10, second half: the process dies after sending the order and before the answer (the intent is left
    UNKNOWN). On restart the tracker finds the order at the broker by its tag: the trader sees it SUBMITTED with
    its broker id; it was sent once."""
    async with Runtime(settings, roles={"api"}) as first:
        first.orders.resolve_window = 0  # give up at once: the process "dies" with the intent UNKNOWN
        intent_id, token = await _propose(first.orders)
        tradier.fail("drop_after_accept", method="POST", path="/orders")
        assert (await first.orders.confirm(intent_id, token, "api")).outcome == "unknown"
        assert (await intent_row(first, intent_id)).status == "UNKNOWN"

    async with Runtime(settings, roles={"api", "engine"}) as second:  # the tracker reconciles on start
        assert "orders" in second.tasks
        for _ in range(200):
            row = await intent_row(second, intent_id)
            if row.status != "UNKNOWN":
                break
            await asyncio.sleep(0.05)
        assert row.status == "SUBMITTED"
        assert row.broker_order_id == str(placed(tradier)[0]["id"])
        assert len(placed(tradier)) == 1 and len(place_posts(tradier)) == 1  # never resent


async def test_fault_10_crash_between_intent_commit_and_send_is_flagged_never_resent(
        settings: Settings, tradier: TradierDouble) -> None:
    """Fault 10, first half: the process dies after committing the intent (PENDING, or SUBMITTING: confirmed but
    not sent). Reconciliation expires a PENDING intent past its time, turns SUBMITTING and UNKNOWN intents with no
    order at the broker into UNKNOWN with a critical alert to a human, and never sends anything itself."""
    async with Runtime(settings, roles={"api"}) as rt:
        ids = []
        for _ in range(3):
            intent_id, _token = await _propose(rt.orders)
            ids.append(intent_id)
        expired, submitting, unknown = ids
        async with rt.db.uow() as session:
            await session.execute(update(OrderIntentRow).where(OrderIntentRow.id == expired)
                                  .values(expires_at=OrderIntentRow.created_at))
        await _set_status(rt, submitting, "SUBMITTING")
        await _set_status(rt, unknown, "UNKNOWN")
        alerts = rt.bus.subscribe(["alert"], name="test-alerts")
        assert rt.broker is not None

        counts = await OrderTracker(rt.orders, unthrottled(rt).broker, rt.bus, interval=0.05).reconcile()

        assert counts["expired"] == 1 and counts["unknown"] == 2 and counts["submitted"] == 0
        assert (await intent_row(rt, expired)).status == "EXPIRED"
        assert (await intent_row(rt, submitting)).status == "UNKNOWN"
        assert (await intent_row(rt, unknown)).status == "UNKNOWN"
        got = [await asyncio.wait_for(anext(aiter(alerts)), 5) for _ in range(2)]
        assert all(isinstance(e, AlertEvent) and e.level == "critical" for e in got)
        assert placed(tradier) == []  # nothing is ever resent by reconciliation
        await alerts.close()
