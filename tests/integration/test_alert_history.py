"""`GET /alerts/history`: every alert's fires, newest first, each exactly the `alert` event the live feed got
(chips included, the later rationale folded in), keyset-paginated (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI

from core.db.repositories.alerts import AlertRepository
from core.domain.alerts import Fired, FireKind
from core.domain.events import AlertEvent
from core.engines.alerts import AlertEngine
from core.runtime import Runtime
from tests.wire import as_json


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


async def fire(rt: Runtime, alert_id: str, price: str, at: datetime) -> AlertEvent:
    """One fire through the engine's real path: published on the bus, then group-committed."""
    engine = rt.alert_engine
    assert isinstance(engine, AlertEngine)
    alert = engine.current(alert_id)
    assert alert is not None
    sub = rt.bus.subscribe(["alert"], name="history-test")
    published = await engine.publish(Fired(alert, FireKind.CROSSED, Decimal(price), at), time.perf_counter_ns())
    assert published is not None
    event = await asyncio.wait_for(anext(aiter(sub)), 5)
    await sub.close()
    await engine.commit()
    assert isinstance(event, AlertEvent)
    return event


async def create(client: httpx.AsyncClient, symbol: str, level: str) -> str:
    response = await client.post("/api/v1/alerts", json={"symbol": symbol, "condition": "price_above",
                                                         "level": level, "repeat": "every"})
    assert response.status_code == 201, response.text
    alert_id: str = response.json()["id"]
    return alert_id


async def test_a_fire_appears_in_history_as_the_live_event(app: FastAPI, client: httpx.AsyncClient) -> None:
    rt: Runtime = app.state.runtime
    assert ok(await client.get("/api/v1/alerts/history")) == {"items": [], "next_before": None}
    alert_id = await create(client, "SPY", "500")
    event = await fire(rt, alert_id, "500.25", datetime.now(UTC))

    body = ok(await client.get("/api/v1/alerts/history"))
    [item] = body["items"]
    live = as_json(event)
    assert {k: v for k, v in item.items() if k != "ts"} == live  # type, level, msg, meta: the same body
    assert item["type"] == "alert" and item["msg"] == "SPY crossed above 500 at 500.25"
    assert item["meta"]["trigger_id"] and item["meta"]["alert_id"] == alert_id and item["meta"]["price"] == "500.25"
    assert item["meta"]["actions"] and item["meta"]["actions"][-1]["id"] == "dismiss"  # the chips, kept
    assert "rationale" not in item["meta"]  # as on the live event: no LLM note arrived
    stamp = datetime.fromisoformat(item["ts"])
    assert item["ts"].endswith("Z") and abs(stamp - datetime.now(UTC)) < timedelta(minutes=5)
    assert body["next_before"] is None

    async with rt.db.uow() as session:  # the rationale update that followed the fire
        await AlertRepository(session).set_rationale(item["meta"]["trigger_id"], "Breakout above 500.")
    [again] = ok(await client.get("/api/v1/alerts/history"))["items"]
    assert again["meta"]["rationale"] == "Breakout above 500." and again["msg"] == item["msg"]


async def test_pages_newest_first_without_gaps_or_repeats(app: FastAPI, client: httpx.AsyncClient) -> None:
    rt: Runtime = app.state.runtime
    spy, qqq = await create(client, "SPY", "500"), await create(client, "QQQ", "400")
    start = datetime.now(UTC) - timedelta(minutes=10)
    fired = []
    for i in range(5):
        alert_id, price = (spy, f"50{i}.5") if i % 2 == 0 else (qqq, f"40{i}.5")
        fired.append((await fire(rt, alert_id, price, start + timedelta(seconds=i))).meta)
    newest_first = [meta.trigger_id for meta in reversed(fired) if meta]

    first = ok(await client.get("/api/v1/alerts/history", params={"limit": 2}))
    assert [i["meta"]["trigger_id"] for i in first["items"]] == newest_first[:2]
    assert first["next_before"] == newest_first[1]
    second = ok(await client.get("/api/v1/alerts/history", params={"limit": 2, "before": first["next_before"]}))
    assert [i["meta"]["trigger_id"] for i in second["items"]] == newest_first[2:4]
    last = ok(await client.get("/api/v1/alerts/history", params={"limit": 2, "before": second["next_before"]}))
    assert [i["meta"]["trigger_id"] for i in last["items"]] == newest_first[4:]
    assert last["next_before"] is None
    assert {i["meta"]["symbol"] for i in first["items"] + second["items"]} == {"SPY", "QQQ"}  # across alerts

    await client.delete(f"/api/v1/alerts/{spy}")  # a deleted alert's fires stay in the history
    assert len(ok(await client.get("/api/v1/alerts/history"))["items"]) == 5


async def test_bad_paging_input_is_a_422_naming_the_parameter(client: httpx.AsyncClient) -> None:
    for params, name in (({"limit": 0}, "limit"), ({"limit": 501}, "limit"), ({"before": "nope"}, "before")):
        response = await client.get("/api/v1/alerts/history", params=params)
        assert response.status_code == 422, response.text
        assert name in response.text
