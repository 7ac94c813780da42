"""The route index answers every request exactly as the router it stands in front of would."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from api.route_index import RouteIndex, install_route_index


def _app() -> FastAPI:
    """Routes whose order matters: a literal path also matched by an earlier pattern, one path with two methods,
    a pattern-only path, and a route added after the index was built."""
    app = FastAPI(redirect_slashes=True)

    @app.get("/items/{item_id}")
    async def item(item_id: str) -> dict[str, str]:
        return {"route": "item", "id": item_id}

    @app.get("/items/export")  # shadowed by the pattern above, as the router has it
    async def export() -> dict[str, str]:
        return {"route": "export"}

    @app.post("/items/export")  # the pattern takes no POST: this one is the first full match
    async def export_post() -> dict[str, str]:
        return {"route": "export_post"}

    @app.get("/settings")
    async def read_settings() -> dict[str, str]:
        return {"route": "settings_get"}

    @app.put("/settings")
    async def write_settings() -> dict[str, str]:
        return {"route": "settings_put"}

    @app.get("/tail/")
    async def tail() -> dict[str, str]:
        return {"route": "tail"}

    install_route_index(app.router)

    @app.get("/late")
    async def late() -> dict[str, str]:
        return {"route": "late"}

    return app


@pytest.fixture
async def clients() -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """The app with the index, and the same app with the router's own matching only."""
    indexed, plain = _app(), _app()
    assert isinstance(indexed.router.middleware_stack, RouteIndex)
    plain.router.middleware_stack = plain.router.app
    async with (httpx.AsyncClient(transport=httpx.ASGITransport(app=indexed), base_url="http://t") as one,
                httpx.AsyncClient(transport=httpx.ASGITransport(app=plain), base_url="http://t") as two):
        yield one, two


@pytest.mark.parametrize(("method", "path", "status", "route"), [
    ("GET", "/items/export", 200, "item"),  # the earlier pattern wins, as in the router
    ("POST", "/items/export", 200, "export_post"),
    ("DELETE", "/items/export", 405, None),
    ("GET", "/items/7", 200, "item"),
    ("GET", "/settings", 200, "settings_get"),
    ("PUT", "/settings", 200, "settings_put"),  # the second route of a path, after a partial match
    ("POST", "/settings", 405, None),
    ("GET", "/tail", 200, "tail"),  # redirected to /tail/ by the router
    ("GET", "/late", 200, "late"),  # added after the index: the full router serves it
    ("GET", "/missing", 404, None),
])
async def test_same_answer_as_the_router(clients: tuple[httpx.AsyncClient, httpx.AsyncClient], method: str,
                                         path: str, status: int, route: str | None) -> None:
    indexed, plain = clients
    answer = await indexed.request(method, path, follow_redirects=True)
    expected = await plain.request(method, path, follow_redirects=True)
    assert (answer.status_code, answer.headers.get("allow")) == (expected.status_code, expected.headers.get("allow"))
    assert answer.status_code == status
    if route is not None:
        assert answer.json()["route"] == route == expected.json()["route"]


async def test_literal_paths_reach_their_route_in_one_match() -> None:
    app = _app()
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex)
    tried: list[str] = []
    for route in app.router.routes:
        original = route.matches

        def counting(scope: dict[str, object], _original: object = original, _route: object = route) -> object:
            tried.append(getattr(_route, "path", "?"))
            return _original(scope)  # type: ignore[operator]

        route.matches = counting  # type: ignore[method-assign]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        assert (await http.put("/settings")).json() == {"route": "settings_put"}
    assert tried == ["/settings", "/settings"]  # GET (partial), then PUT (full): none of the other routes
