"""FastAPI app factory: the lifespan owns the Runtime; routers are thin translators over core services."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.routing import WebSocketRoute

from api.auth import Unauthorized, access_dependencies, key_matches, resolve_api_key
from api.docs import install_docs
from api.errors import install_error_handlers
from api.middleware import BodyLimitMiddleware, RequestContextMiddleware, SecurityMiddleware
from api.route_index import install_route_index
from api.routers import ROUTERS
from api.ws import WebSocketEndpoint, WebSocketHub
from bots.slack import handle_slack_events, start_slack
from core.metrics import track_bus_depths
from core.runtime import ALL_ROLES, Role, Runtime
from core.settings import Settings

STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings | None = None, *, roles: frozenset[Role] = ALL_ROLES,
               runtime: Runtime | None = None) -> FastAPI:
    """Build the app. Pass `runtime` to share one the caller already started; otherwise the lifespan owns one."""
    settings = settings or Settings()
    api_key, _ = resolve_api_key(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if runtime is not None:
            app.state.runtime = runtime
            _start_hub(app, runtime)
            app.state.slack = await start_slack(runtime)
            with _startup_heap_frozen():
                yield
            return
        async with Runtime(settings, roles=roles | {"api"}) as owned:
            app.state.runtime = owned
            _start_hub(app, owned)
            app.state.slack = await start_slack(owned)
            with _startup_heap_frozen():
                yield

    # OpenTelemetry is not part of the product (Prometheus /metrics is); switched off, FastAPI skips its
    # per-request provider checks.
    # The OpenAPI document and its viewers are added by install_docs, behind the key.
    app = FastAPI(title="Trading Assistant", version="0.1.0", lifespan=lifespan, openapi_url=None,
                  docs_url=None, redoc_url=None,
                  telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False})
    app.state.api_key = api_key
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(SecurityMiddleware, allowed_hosts=settings.served_hosts)
    app.add_middleware(RequestContextMiddleware)

    _add_flat(app, "/api/v1", ROUTERS)

    app.router.routes.append(WebSocketRoute("/ws", WebSocketEndpoint(app.state)))

    @app.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        """Slack's HTTP endpoint (signed requests; 503 with how to enable when this process runs no Slack app)."""
        return await handle_slack_events(request, getattr(app.state, "slack", None), settings)

    metrics_token = settings.metrics_token.get_secret_value() if settings.metrics_token else ""

    async def may_scrape(request: Request) -> None:
        """The API key, or `Authorization: Bearer <METRICS_TOKEN>` so a scraper need not hold the API key."""
        bearer = request.headers.get("authorization", "")
        token = bearer[7:] if bearer[:7].lower() == "bearer " else None
        if not (key_matches(request.headers.get("x-api-key"), api_key) or key_matches(token, metrics_token)):
            raise Unauthorized("missing or wrong credentials: send X-API-Key, or Authorization: Bearer "
                               "<METRICS_TOKEN> when that setting is set")

    @app.get("/metrics", include_in_schema=False, dependencies=[Depends(may_scrape)])
    async def metrics() -> Response:
        track_bus_depths(app.state.runtime.bus.queue_depths)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/", include_in_schema=False)
    async def dashboard() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    install_docs(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_route_index(app.router)  # last: it indexes the routes added so far
    return app


@contextmanager
def _startup_heap_frozen() -> Iterator[None]:
    """What start-up built lives until shutdown: kept out of the cyclic GC's view, a full collection no longer
    walks the whole start-up heap (about 100 ms under load, a p99 spike). Unfrozen at shutdown so it can go."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _add_flat(app: FastAPI, prefix: str, routers: list[APIRouter]) -> None:
    """Each route added to the app itself, in order, under `prefix`. `include_router` keeps routers nested, and
    matching then walks every included router's routes with per-candidate bookkeeping: a measurable share of a
    sub-millisecond request. Same paths, names, dependencies and OpenAPI, plus each route's trader check."""
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                raise TypeError(f"{route!r} in {router.prefix}: only APIRoutes can be added flat")
            app.router.add_api_route(
                prefix + route.path, route.endpoint, response_model=route.response_model,
                status_code=route.status_code, tags=route.tags,
                dependencies=[*route.dependencies, *access_dependencies(route.methods or (), prefix + route.path)],
                summary=route.summary, description=route.description,
                response_description=route.response_description, responses=route.responses,
                deprecated=route.deprecated, methods=route.methods, operation_id=route.operation_id,
                response_model_include=route.response_model_include,
                response_model_exclude=route.response_model_exclude,
                response_model_by_alias=route.response_model_by_alias,
                response_model_exclude_unset=route.response_model_exclude_unset,
                response_model_exclude_defaults=route.response_model_exclude_defaults,
                response_model_exclude_none=route.response_model_exclude_none,
                include_in_schema=route.include_in_schema, response_class=route.response_class, name=route.name,
                callbacks=route.callbacks, openapi_extra=route.openapi_extra,
                generate_unique_id_function=route.generate_unique_id_function)


def _start_hub(app: FastAPI, runtime: Runtime) -> None:
    hub = WebSocketHub(runtime.bus, price_hz=runtime.settings.price_event_hz)
    app.state.hub = hub
    runtime.spawn(hub.run(), name="ws-hub")
