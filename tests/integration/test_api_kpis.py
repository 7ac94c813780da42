"""`GET /diag/kpis` from the running product's own metrics, and a KPI breach reaching a `/ws` client as a
`health` event (and its end as another)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import websockets
from fastapi import FastAPI

from api.app import create_app
from core.engines.delivery import DELIVERY_LATENCY
from core.settings import Settings
from tests.conftest import API_KEY
from tests.serve import serve

NAMES = ["ws_uptime", "quote_latency_p95", "alert_delivery_p95", "plan_compute_p95", "api_error_rate"]
PLAN = {"side": "long", "entry": "100", "stop": "95", "targets": ["110"]}


async def test_kpis_shape_goals_and_what_was_measured(app: FastAPI, client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/diag/kpis")).json()
    assert set(body) == {"kpis", "freshness", "integrations"}
    kpis = {(k["name"], k.get("channel")): k for k in body["kpis"]}
    assert [k["name"] for k in body["kpis"]][:2] == NAMES[:2] and {name for name, _ in kpis} == set(NAMES)
    assert kpis[("alert_delivery_p95", "ws")]["unit"] == "ms" and "channel" not in kpis[("ws_uptime", None)]
    goals = {name: k["goal"] for (name, _), k in kpis.items()}
    assert goals == {"ws_uptime": 99.0, "quote_latency_p95": 1500.0, "alert_delivery_p95": 3000.0,
                     "plan_compute_p95": 800.0, "api_error_rate": 1.0}
    assert kpis[("plan_compute_p95", None)] | {"detail": ""} == {
        "name": "plan_compute_p95", "label": "Plan compute p95", "value": None, "unit": "ms", "goal": 800.0,
        "status": "no_data", "detail": ""}  # nothing validated yet: no number is made up
    market = next(i for i in body["integrations"] if i["name"] == "market_data")
    assert market["enabled"] is False and "POLYGON_API_KEY" in market["how_to_enable"]
    assert API_KEY not in (await client.get("/api/v1/diag/kpis")).text

    for _ in range(3):
        assert (await client.post("/api/v1/plan/validate", json=PLAN)).status_code == 200
    assert (await client.post("/api/v1/plan/validate", json={**PLAN, "stop": "x"})).status_code == 422
    kpis = {(k["name"], k.get("channel")): k for k in (await client.get("/api/v1/diag/kpis")).json()["kpis"]}
    plan = kpis[("plan_compute_p95", None)]
    assert plan["status"] == "ok" and 0 < plan["value"] <= 800
    errors = kpis[("api_error_rate", None)]
    assert errors["value"] == 0.0 and errors["status"] == "ok"  # a 422 is the caller's mistake, not an error
    assert "0 server errors (5xx) in" in errors["detail"]

    metrics = (await client.get("/metrics")).text  # the KPIs' sources are what /metrics exports
    assert "tradeassist_plan_compute_seconds_bucket" in metrics and "tradeassist_quote_staleness_seconds" in metrics
    app.state.runtime.market.engine.watch({"SPY"})
    freshness = (await client.get("/api/v1/diag/kpis")).json()["freshness"]
    assert {"symbol": "SPY", "age_sec": None, "status": "no_data"} in freshness  # watched, nothing arrived yet


async def _next(ws: Any, kind: str, timeout: float = 5.0) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            event = orjson.loads(await ws.recv())
            if event["type"] == kind:
                return event  # type: ignore[no-any-return]


async def test_a_breach_reaches_ws_as_a_health_event_and_so_does_its_end(
        make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(risk_eval_sec=0.1), roles=frozenset({"api", "engine"}))
    async with serve(app) as base:
        monitor = app.state.runtime.kpis
        monitor.window_sec = 1.0
        async with websockets.connect(f"{base.replace('http', 'ws')}/ws?api_key={API_KEY}") as ws:
            await _next(ws, "status")
            DELIVERY_LATENCY.labels("slack").observe(12.0)
            health = await _next(ws, "health")
            assert {k: health[k] for k in ("kpi", "status", "channel", "goal")} == {
                "kpi": "alert_delivery_p95", "status": "breach", "channel": "slack", "goal": 3000.0}
            assert health["value"] > 3000 and "above its goal of 3000 ms" in health["msg"] and health["ts"]
            back = await _next(ws, "health")  # the slow delivery leaves the window
            assert (back["kpi"], back["status"], back["channel"]) == ("alert_delivery_p95", "ok", "slack")
