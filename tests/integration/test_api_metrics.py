"""/metrics speaks Prometheus text with route-labelled latency, error counts, WS clients and bus queue depths."""

from __future__ import annotations

import httpx


async def test_metrics_expose_request_latency_errors_and_bus_depths(client: httpx.AsyncClient) -> None:
    await client.get("/api/v1/journal")
    await client.get("/api/v1/journal/missing-id")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'tradeassist_http_request_seconds_count{method="GET",route="/api/v1/journal"}' in text
    assert 'tradeassist_http_errors_total{code="not_found",route="/api/v1/journal/{entry_id}",status="404"}' in text
    assert "tradeassist_ws_clients" in text
    assert 'tradeassist_bus_queue_depth{subscriber="ws-hub"}' in text


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    given = await client.get("/api/v1/diag/health", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    generated = await client.get("/api/v1/diag/health")
    assert len(generated.headers["x-request-id"]) == 32
