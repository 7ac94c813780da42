"""The X-API-Key gate (one key per installation, generated on first start when API_KEY is not set), and the
trader check of each route: the key holder is the `api` actor, which must be in TRADERS for anything that is not
public in core.domain.access."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from pathlib import Path

from fastapi import Depends, Request, params
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute

from core.domain.access import Action, check, needs_trader
from core.errors import CoreError
from core.settings import MIN_SECRET_CHARS, Settings
from core.var_files import read_or_create

KEY_FILE = "api_key"


class Unauthorized(CoreError):
    code = "unauthorized"


def resolve_api_key(settings: Settings) -> tuple[str, bool]:
    """(key, generated_now). A generated key is written to var/api_key with mode 0600."""
    if settings.api_key is not None:
        return settings.api_key.get_secret_value(), False
    path = Path(settings.var_dir) / KEY_FILE
    key, generated = read_or_create(path, lambda: secrets.token_urlsafe(32))
    if len(key) < MIN_SECRET_CHARS:
        raise ValueError(f"{path} holds a key of {len(key)} characters, at least {MIN_SECRET_CHARS} are "
                         "required: delete the file to have a new one generated, or set API_KEY")
    return key, generated


def key_matches(given: str | None, expected: str) -> bool:
    if not given or not expected:  # an empty key never matches, even an empty configured one
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


async def require_api_key(request: Request) -> None:
    if not key_matches(request.headers.get("x-api-key"), request.app.state.api_key):
        raise Unauthorized("missing or wrong X-API-Key header; the key is in var/api_key or the API_KEY setting")


# -- who may call each route (core.domain.access is the policy; this maps the routes onto it) -----------------

API_ACTOR = "api"  # every holder of the API key acts as `api`, which TRADERS must list for anything non-public

ROUTE_ACTIONS: dict[tuple[str, str], Action] = {
    ("GET", "/api/v1/diag/health"): Action.STATUS,
    ("GET", "/api/v1/diag/ready"): Action.STATUS,
    ("GET", "/api/v1/diag/config"): Action.SETTINGS_READ,
    ("GET", "/api/v1/diag/kpis"): Action.SETTINGS_READ,  # freshness lists the watchlist
    ("GET", "/api/v1/settings"): Action.SETTINGS_READ,
    ("PUT", "/api/v1/settings"): Action.SETTINGS_WRITE,
    ("POST", "/api/v1/journal"): Action.JOURNAL_WRITE,
    ("GET", "/api/v1/journal"): Action.JOURNAL_READ,
    ("GET", "/api/v1/journal/export"): Action.JOURNAL_READ,
    ("GET", "/api/v1/journal/{entry_id}"): Action.JOURNAL_READ,
    ("PATCH", "/api/v1/journal/{entry_id}"): Action.JOURNAL_WRITE,
    ("DELETE", "/api/v1/journal/{entry_id}"): Action.JOURNAL_WRITE,
    ("GET", "/api/v1/market/quote/{symbol}"): Action.MARKET_READ,
    ("GET", "/api/v1/market/quote/"): Action.MARKET_READ,
    ("GET", "/api/v1/market/bars/{symbol}"): Action.MARKET_READ,
    ("GET", "/api/v1/market/bars/"): Action.MARKET_READ,
    ("GET", "/api/v1/market/status"): Action.MARKET_READ,
    ("GET", "/api/v1/chart/{symbol}"): Action.ACCOUNT_READ,  # positions, stops and fills are drawn on it
    ("GET", "/api/v1/market/news"): Action.MARKET_READ,
    ("GET", "/api/v1/news"): Action.MARKET_READ,
    ("GET", "/api/v1/earnings"): Action.MARKET_READ,
    ("GET", "/api/v1/options/expirations/{symbol}"): Action.MARKET_READ,
    ("GET", "/api/v1/options/chain/{symbol}"): Action.MARKET_READ,
    ("GET", "/api/v1/options/screen"): Action.MARKET_READ,
    ("GET", "/api/v1/options/picks"): Action.ACCOUNT_READ,  # sized from the account
    ("POST", "/api/v1/options/price"): Action.CALCULATE,
    ("POST", "/api/v1/options/express"): Action.CALCULATE,
    ("POST", "/api/v1/options/hedge"): Action.ORDER_PROPOSE,
    ("GET", "/api/v1/picks"): Action.MARKET_READ,
    ("GET", "/api/v1/picks/stats"): Action.MARKET_READ,
    ("GET", "/api/v1/picks/{pick_id}"): Action.MARKET_READ,
    ("POST", "/api/v1/picks/{pick_id}/alert"): Action.ALERT_WRITE,
    ("POST", "/api/v1/picks/{pick_id}/take"): Action.ORDER_PROPOSE,
    ("POST", "/api/v1/picks/{pick_id}/explain"): Action.COACH,
    ("GET", "/api/v1/stream/prices"): Action.MARKET_READ,
    ("POST", "/api/v1/plan/validate"): Action.CALCULATE,
    ("POST", "/api/v1/sizing/suggest"): Action.CALCULATE,
    ("GET", "/api/v1/stream/risk"): Action.ACCOUNT_READ,
    ("POST", "/api/v1/coach/chat"): Action.COACH,
    ("GET", "/api/v1/coach/conversations/{conversation_id}"): Action.COACH,
    ("GET", "/api/v1/broker/account"): Action.ACCOUNT_READ,
    ("GET", "/api/v1/broker/positions"): Action.ACCOUNT_READ,
    ("GET", "/api/v1/broker/orders"): Action.ACCOUNT_READ,
    ("POST", "/api/v1/broker/orders"): Action.ORDER_PROPOSE,
    ("GET", "/api/v1/broker/orders/intents/{intent_id}"): Action.ACCOUNT_READ,
    ("POST", "/api/v1/broker/orders/{intent_id}/confirm"): Action.ORDER_CONFIRM,
    ("POST", "/api/v1/broker/orders/{intent_id}/cancel-intent"): Action.ORDER_CANCEL,
    ("PUT", "/api/v1/broker/orders/{order_id}"): Action.ORDER_PROPOSE,
    ("DELETE", "/api/v1/broker/orders/{order_id}"): Action.ORDER_CANCEL,
    ("GET", "/api/v1/stream/positions"): Action.ACCOUNT_READ,
    ("GET", "/api/v1/stream/orders"): Action.ACCOUNT_READ,
    ("POST", "/api/v1/alerts"): Action.ALERT_WRITE,
    ("GET", "/api/v1/alerts"): Action.ALERT_READ,
    ("GET", "/api/v1/alerts/history"): Action.ALERT_READ,
    ("GET", "/api/v1/alerts/{alert_id}"): Action.ALERT_READ,
    ("PATCH", "/api/v1/alerts/{alert_id}"): Action.ALERT_WRITE,
    ("DELETE", "/api/v1/alerts/{alert_id}"): Action.ALERT_WRITE,
    ("GET", "/api/v1/alerts/{alert_id}/triggers"): Action.ALERT_READ,
    ("POST", "/api/v1/alerts/{alert_id}/snooze"): Action.ALERT_WRITE,
    ("POST", "/api/v1/alerts/{alert_id}/dismiss"): Action.ALERT_WRITE,
    ("POST", "/api/v1/actions"): Action.ORDER_PROPOSE,  # also snoozes/dismisses alerts; every action needs a trader
}


def route_action(methods: Iterable[str], path: str) -> Action:
    """The action of a route; a route without one is a programming error (the app refuses to build)."""
    actions = {ROUTE_ACTIONS.get((method, path)) for method in methods if method != "HEAD"}
    if len(actions) != 1 or None in actions:
        raise LookupError(f"{sorted(methods)} {path} has no entry in api.auth.ROUTE_ACTIONS: say which "
                          "core.domain.access.Action it is (deny by default)")
    action = actions.pop()
    assert action is not None
    return action


def api_routes(routes: Iterable[BaseRoute], prefix: str) -> list[tuple[str, str]]:
    """(method, path) of every API route under `prefix`, as FastAPI serves and documents them."""
    return sorted((method, context.path) for context in iter_route_contexts(list(routes))
                  if isinstance(context.original_route, APIRoute) and context.path and context.path.startswith(prefix)
                  for method in context.methods or ())


def check_route_actions(routes: Iterable[BaseRoute], prefix: str) -> None:
    """Every API route under `prefix` has an action in ROUTE_ACTIONS (LookupError otherwise): the app refuses to
    build with a route nobody classified."""
    for method, path in api_routes(routes, prefix):
        route_action((method,), path)


def route_access(prefix: str) -> params.Depends:
    """The trader check of every route included under `prefix`, from the route's action; nothing for a public
    one. The key is checked first, so a caller without it is told 401, never 403."""

    async def require_route_access(request: Request) -> None:
        route = request.scope["route"]
        action = route_action(route.methods, prefix + route.path)
        if needs_trader(action):
            await require_api_key(request)
            check(action, API_ACTOR, request.app.state.runtime.settings.traders)

    return Depends(require_route_access)
