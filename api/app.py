"""FastAPI app factory: the lifespan owns the Runtime; routers are thin translators over core services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.routing import WebSocketRoute

from api.auth import resolve_api_key
from api.errors import install_error_handlers
from api.middleware import BodyLimitMiddleware, RequestContextMiddleware
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
            yield
            return
        async with Runtime(settings, roles=roles | {"api"}) as owned:
            app.state.runtime = owned
            _start_hub(app, owned)
            app.state.slack = await start_slack(owned)
            yield

    app = FastAPI(title="Trading Assistant", version="0.1.0", lifespan=lifespan)
    app.state.api_key = api_key
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(RequestContextMiddleware)

    v1 = APIRouter(prefix="/api/v1")
    for router in ROUTERS:
        v1.include_router(router)
    app.include_router(v1)

    app.router.routes.append(WebSocketRoute("/ws", WebSocketEndpoint(app.state)))

    @app.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        """Slack's HTTP endpoint (signed requests; 503 with how to enable when this process runs no Slack app)."""
        return await handle_slack_events(request, getattr(app.state, "slack", None), settings)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        track_bus_depths(app.state.runtime.bus.queue_depths)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/", include_in_schema=False)
    async def dashboard() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def _start_hub(app: FastAPI, runtime: Runtime) -> None:
    hub = WebSocketHub(runtime.bus, price_hz=runtime.settings.price_event_hz)
    app.state.hub = hub
    runtime.spawn(hub.run(), name="ws-hub")
