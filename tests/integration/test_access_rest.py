"""Deny by default over REST: every /api/v1 route, enumerated from the app, is either public in core.domain.access
(market data, calculators, health) or refused with 403 (and which TRADERS entry would admit the key holder) when
`api` is not in TRADERS. A new route without an entry in api.auth.ROUTE_ACTIONS makes the app refuse to build."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import APIRouter, FastAPI

import api.app
from api.app import create_app
from api.auth import ROUTE_ACTIONS, route_action
from api.auth import api_routes as routes_of
from core.domain.access import Action, needs_trader
from core.settings import Settings
from tests.conftest import API_KEY, serving


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    return routes_of(app.routes, "/api/v1/")


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "X1", path)


@pytest.fixture
async def stranger(make_settings: Callable[..., Settings]) -> AsyncIterator[httpx.AsyncClient]:
    """The API with a valid key whose holder (`api`) is not in TRADERS."""
    async with serving(create_app(make_settings(traders=[]), roles=frozenset({"api"}))) as http:
        yield http


def test_every_route_has_an_action_and_every_action_a_route() -> None:
    app = create_app(Settings(_env_file=None, api_key=API_KEY, var_dir="/tmp/ta-access-test"))  # type: ignore[call-arg]
    routes = api_routes(app)
    assert routes and all(route_action({method}, path) in Action for method, path in routes)
    assert set(ROUTE_ACTIONS) == set(routes), "ROUTE_ACTIONS names a route the app does not have"


def test_a_route_without_a_policy_is_refused_at_build_time(monkeypatch: pytest.MonkeyPatch) -> None:
    router = APIRouter()

    @router.get("/new-thing")
    async def new_thing() -> dict[str, str]:
        return {}

    monkeypatch.setattr(api.app, "ROUTERS", [*api.app.ROUTERS, router])
    with pytest.raises(LookupError, match=r"\['GET'\] /api/v1/new-thing has no entry in api.auth.ROUTE_ACTIONS"):
        create_app(Settings(_env_file=None, api_key=API_KEY, var_dir="/tmp/ta-access-test"))  # type: ignore[call-arg]


async def test_a_non_trader_key_holder_gets_only_public_routes(stranger: httpx.AsyncClient) -> None:
    routes = api_routes(stranger._transport.app)  # type: ignore[attr-defined]
    refused, served = [], []
    for method, path in routes:
        response = await stranger.request(method, concrete(path), json={"equity": "10000"})
        action = ROUTE_ACTIONS[(method, path)]
        if needs_trader(action):
            assert response.status_code == 403, (method, path, response.status_code, response.text)
            error = response.json()["error"]
            assert error["code"] == "forbidden" and "add `api` to TRADERS" in error["message"], error
            assert error["details"] == {"action": action.value, "actor": "api"}
            refused.append(path)
        else:
            assert response.status_code != 403, (method, path, response.text)
            served.append(path)
    assert "/api/v1/alerts/{alert_id}" in refused and "/api/v1/broker/orders" in refused
    assert "/api/v1/journal/export" in refused and "/api/v1/broker/positions" in refused
    assert "/api/v1/market/quote/{symbol}" in served and "/api/v1/sizing/suggest" in served


async def test_without_the_key_every_private_route_is_401_before_the_trader_check(
        stranger: httpx.AsyncClient) -> None:
    response = await stranger.delete("/api/v1/alerts/X1", headers={"X-API-Key": "wrong"})
    assert response.status_code == 401


async def test_a_trader_key_holder_is_served(make_settings: Callable[..., Settings]) -> None:
    async with serving(create_app(make_settings(traders=["api"]), roles=frozenset({"api"}))) as http:
        created = await http.post("/api/v1/alerts", json={"symbol": "AAPL", "condition": "price_above",
                                                          "level": "500"})
        assert created.status_code == 201
        assert (await http.delete(f"/api/v1/alerts/{created.json()['id']}")).status_code == 204
        assert (await http.get("/api/v1/settings")).status_code == 200


async def test_sizing_without_equity_reads_the_account_so_needs_a_trader(stranger: httpx.AsyncClient) -> None:
    body = {"entry": "100", "stop": "99"}
    refused = await stranger.post("/api/v1/sizing/suggest", json=body)
    assert refused.status_code == 403 and "Send equity" in refused.json()["error"]["message"]
    given = await stranger.post("/api/v1/sizing/suggest", json={**body, "equity": "10000"})
    assert given.status_code == 200, given.text
