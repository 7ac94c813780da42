"""FastAPI app factory: the lifespan owns the Runtime; routers are thin translators over core services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.routing import WebSocketRoute

from api.auth import Unauthorized, check_route_actions, key_matches, resolve_api_key, route_access
from api.docs import install_docs
from api.errors import install_error_handlers
from api.middleware import BodyLimitMiddleware, RequestContextMiddleware, SecurityMiddleware
from api.routers import ROUTERS
from api.ws import WebSocketEndpoint, WebSocketHub
from bots.slack import handle_slack_events, start_slack
from core.metrics import track_bus_depths
from core.runtime import ALL_ROLES, Role, Runtime
from core.settings import Settings

STATIC_DIR = Path(__file__).resolve().parent / "static"
API_PREFIX = "/api/v1"


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
            yield
            return
        async with Runtime(settings, roles=roles | {"api"}) as owned:
            app.state.runtime = owned
            _start_hub(app, owned)
            app.state.slack = await start_slack(owned)
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

    trader_check = route_access(API_PREFIX)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX, dependencies=[trader_check])
    check_route_actions(app.routes, API_PREFIX)

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
    return app


def _start_hub(app: FastAPI, runtime: Runtime) -> None:
    hub = WebSocketHub(runtime.bus, price_hz=runtime.settings.price_event_hz)
    app.state.hub = hub
    runtime.spawn(hub.run(), name="ws-hub")
