"""A path index in front of the app's router: most requests name a path that some route declares literally.

The router tries its ~50 routes in order, and each miss costs a few microseconds in FastAPI's `matches`, so the
23rd route (`/plan/validate`) paid ~80 us of CPU per request before its own route was reached. For a literal path
the index knows, at start-up, the few routes whose pattern matches it (in their order); their `matches` is tried
and the first full match handled, exactly as the router would. Anything else (a path with parameters, a method
no route takes (405), an unknown path (404, slash redirects), a match that brings scope keys of FastAPI's own)
goes to the full router, unchanged. Build it once every route is added: a route added later is not indexed.
What the router does besides matching is done here too (`scope["router"]`); FastAPI's router-level form limits
and telemetry are not, as this app sets neither.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Match, Router
from starlette.types import ASGIApp, Receive, Scope, Send

# What a plain route's match puts into the scope; any other key means FastAPI's own bookkeeping: full router.
_PLAIN_MATCH_KEYS = frozenset({"endpoint", "path_params", "route"})


class RouteIndex:
    """ASGI entry of `router` (its `middleware_stack`): literal paths dispatched to their candidate routes."""

    def __init__(self, router: Router) -> None:
        self._router = router
        self._full: ASGIApp = router.middleware_stack
        literal = {path for route in router.routes if "{" not in (path := getattr(route, "path", "{"))}
        self._candidates: dict[str, tuple[BaseRoute, ...]] = {
            path: tuple(route for route in router.routes if _may_match(route, path)) for path in literal}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        candidates = self._candidates.get(scope["path"]) if scope["type"] == "http" else None
        if candidates is not None and not scope.get("root_path"):
            for route in candidates:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    if not child_scope.keys() <= _PLAIN_MATCH_KEYS:
                        break  # FastAPI's own scope keys: the full router merges them
                    scope.setdefault("router", self._router)
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await self._full(scope, receive, send)  # no full match here: 405, 404 and redirects as the router does


def _may_match(route: BaseRoute, path: str) -> bool:
    pattern = getattr(route, "path_regex", None)
    return pattern is None or pattern.match(path) is not None  # no pattern: keep it, the route decides


def install_route_index(router: Router) -> None:
    router.middleware_stack = RouteIndex(router)
