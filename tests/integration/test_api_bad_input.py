"""Bad input gets a clear 4xx that says what to fix, never a 500, and nothing is half-written."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import API_KEY


async def _journal_count(client: httpx.AsyncClient) -> int:
    return len((await client.get("/api/v1/journal", params={"limit": "500"})).json()["items"])


@pytest.mark.parametrize(("patch", "field"), [
    ({"bogus": 1}, "bogus"),
    ({"risk": {"max_open_positions": "many"}}, "risk.max_open_positions"),
    ({"risk": {"max_daily_loss_usd": -5}}, "risk.max_daily_loss_usd"),
    ({"risk": {"risk_per_trade_pct": 11}}, "risk.risk_per_trade_pct"),
    ({"risk": {"unknown_limit": 1}}, "risk.unknown_limit"),
    ({"watchlist": ["SPY", "not a symbol!"]}, "watchlist"),
    ({"default_rr": 0}, "default_rr"),
    ({"alert_types": {"carrier_pigeon": ["crossed"]}}, "alert_types"),
])
async def test_settings_rejects_bad_values_and_keeps_the_old_ones(client: httpx.AsyncClient, patch: dict[str, object],
                                                                  field: str) -> None:
    before = (await client.get("/api/v1/settings")).json()
    response = await client.put("/api/v1/settings", json=patch)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert any(detail["field"].startswith(field) for detail in error["details"]), error
    assert (await client.get("/api/v1/settings")).json() == before


async def test_settings_partial_update_merges(client: httpx.AsyncClient) -> None:
    response = await client.put("/api/v1/settings", json={"risk": {"max_trades_per_day": 3}, "watchlist": ["aapl"]})
    assert response.status_code == 200
    body = (await client.get("/api/v1/settings")).json()
    assert body["risk"]["max_trades_per_day"] == 3
    assert body["risk"]["max_open_positions"] == 5
    assert body["watchlist"] == ["AAPL"]


async def test_invalid_json_is_422_with_reason(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/journal", content=b'{"body": "x",',
                                 headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_json"
    assert await _journal_count(client) == 0


async def test_non_object_body_says_what_to_send(client: httpx.AsyncClient) -> None:
    response = await client.put("/api/v1/settings", json=[1, 2])
    assert response.status_code == 422
    response = await client.post("/api/v1/journal", content=b"body=x")
    assert response.status_code == 422
    assert "JSON object" in response.json()["error"]["message"]


async def test_huge_body_is_413_and_not_stored(client: httpx.AsyncClient) -> None:
    big = b'{"body": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    response = await client.post("/api/v1/journal", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"

    async def chunks():  # no Content-Length: the cap applies to the streamed bytes too
        for _ in range(20):
            yield b"x" * 65536

    streamed = await client.post("/api/v1/journal", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    assert await _journal_count(client) == 0


async def test_wrong_api_key_is_401_and_never_echoed(client: httpx.AsyncClient) -> None:
    wrong = "wrong-key-that-must-not-appear"
    for headers in ({"X-API-Key": wrong}, {}):
        client.headers.pop("X-API-Key", None)
        response = await client.get("/api/v1/journal", headers=headers)
        assert response.status_code == 401
        assert wrong not in response.text
        assert API_KEY not in response.text
    client.headers["X-API-Key"] = API_KEY


async def test_health_needs_no_key_but_readiness_and_config_do(client: httpx.AsyncClient) -> None:
    client.headers.pop("X-API-Key")
    assert (await client.get("/api/v1/diag/health")).status_code == 200
    assert (await client.get("/api/v1/diag/ready")).status_code == 401
    assert (await client.get("/api/v1/diag/config")).status_code == 401
    client.headers["X-API-Key"] = API_KEY


@pytest.mark.parametrize(("params", "field"), [
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"cursor": "MjAyNi0xMS0yNVQxMDowMDowMHxhYmM"}, "cursor"),  # valid base64, naive timestamp
    ({"limit": "0"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"kind": "diary"}, "kind"),
    ({"since": "yesterday"}, "since"),
    ({"since": "2026-11-25T10:00:00"}, "since"),
    ({"symbol": "$$$"}, "symbol"),
])
async def test_journal_query_errors_name_the_field(client: httpx.AsyncClient, params: dict[str, str],
                                                   field: str) -> None:
    response = await client.get("/api/v1/journal", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == field


async def test_export_format_not_supported(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/journal/export", params={"format": "xlsx"})
    assert response.status_code == 422
    assert "csv or json" in response.json()["error"]["message"]


async def test_unknown_journal_id_is_404_for_get_patch_delete(client: httpx.AsyncClient) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        kwargs = {"json": {"body": "x"}} if method == "PATCH" else {}
        response = await client.request(method, "/api/v1/journal/doesnotexist", **kwargs)
        assert response.status_code == 404, method


@pytest.mark.parametrize("draft", [
    {"body": ""}, {"body": "x", "kind": "diary"}, {"body": "x", "extra": 1}, {"body": "x", "tags": "a,b"},
    {"body": "x", "symbol": "not a symbol"}, {"body": "x" * 20_001}, {},
])
async def test_bad_journal_entries_write_nothing(client: httpx.AsyncClient, draft: dict[str, object]) -> None:
    response = await client.post("/api/v1/journal", json=draft)
    assert response.status_code == 422
    assert response.json()["error"]["details"]
    assert await _journal_count(client) == 0


async def test_patch_cannot_null_required_fields(client: httpx.AsyncClient) -> None:
    created = (await client.post("/api/v1/journal", json={"body": "keep"})).json()
    response = await client.patch(f"/api/v1/journal/{created['id']}", json={"body": None})
    assert response.status_code == 422
    assert (await client.get(f"/api/v1/journal/{created['id']}")).json()["body"] == "keep"
