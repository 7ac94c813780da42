"""Composition root: builds adapters, services and engines for the roles a process plays, and owns their tasks.

    async with Runtime(settings, roles={"api", "engine"}) as rt:
        ...

Every long-running task goes through `rt.spawn()`: it is kept, its failure is logged, and it is cancelled on exit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from types import TracebackType
from typing import Any, Literal

import structlog
from sqlalchemy.engine import make_url

from core.adapters.polygon.rest import PolygonMarketData
from core.adapters.polygon.stream import PolygonFeed
from core.bus import create_bus
from core.db.migrate import upgrade_to_head
from core.db.session import Database
from core.engines.heartbeat import run_heartbeat, unknown_risk_state
from core.engines.stream import StreamEngine
from core.ports import EventBus
from core.services.journal import JournalService
from core.services.market import MarketService
from core.services.settings import SettingsService, Tunables
from core.settings import Settings

Role = Literal["api", "engine", "discord", "slack"]
ALL_ROLES: frozenset[Role] = frozenset({"api", "engine", "discord", "slack"})
SHUTDOWN_GRACE_SEC = 1.5

log = structlog.get_logger("runtime")


class Runtime:
    def __init__(self, settings: Settings, roles: Iterable[Role] = ALL_ROLES, *, migrate: bool = True) -> None:
        self.settings = settings
        self.roles = frozenset(roles)
        self.migrate = migrate
        self.db = Database(settings.database_url)
        self.bus: EventBus = create_bus(settings.event_bus_url)
        self.settings_service = SettingsService(self.db, initial_watchlist=settings.watchlist)
        self.journal = JournalService(self.db)
        self._market_data: PolygonMarketData | None = None
        self.market = self._build_market()
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self.started = False

    async def __aenter__(self) -> Runtime:
        if self.migrate:
            await upgrade_to_head(self.db)
        await self.bus.start()
        if "engine" in self.roles:
            self.spawn(run_heartbeat(self.bus, self.settings.risk_eval_sec, status=self.integrations,
                                     risk_state=self.risk_state), name="heartbeat")
        await self._start_market()
        self.started = True
        log.info("runtime.started", roles=sorted(self.roles))
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()

    # -- features: each builds its services in __init__ and starts its engines in its own _start_* ----------------

    def _build_market(self) -> MarketService:
        polygon = self.settings.polygon
        engine = StreamEngine(self.bus)
        if polygon.api_key is None:
            return MarketService(self.bus, engine, data=None, disabled_reason="POLYGON_API_KEY is not set")
        data = PolygonMarketData(polygon.rest_url, polygon.api_key)
        feed = None
        if "engine" in self.roles:  # one process owns the Polygon socket (one connection per account)
            feed = PolygonFeed(polygon.ws_url, polygon.api_key, engine, rest=data, market_hours=engine.is_market_hours)
        self._market_data = data
        return MarketService(self.bus, engine, data=data, feed=feed)

    async def _start_market(self) -> None:
        if self._market_data is not None:
            self._closers.append(self._market_data.aclose)
        if "engine" not in self.roles:
            return
        self.spawn(self.market.run(), name="market")
        await self.market.watch((await self.settings_service.get()).watchlist)

        async def resubscribe(tunables: Tunables, changed: set[str]) -> None:
            if "watchlist" in changed:
                await self.market.watch(tunables.watchlist)

        self.settings_service.on_change(resubscribe)

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("runtime.task_failed", task=task.get_name(), exc_info=task.exception())

    @property
    def tasks(self) -> list[str]:
        return sorted(task.get_name() for task in self._tasks)

    async def stop(self) -> None:
        self.started = False
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_SEC)
            for task in pending:
                log.warning("runtime.task_not_stopped", task=task.get_name())
        for close in reversed(self._closers):
            await close()
        await self.bus.close()
        await self.db.close()
        log.info("runtime.stopped")

    def expected_tasks(self) -> list[str]:
        """The long-running tasks this process must have for /diag/ready to say ready."""
        expected = []
        if "engine" in self.roles:
            expected += ["heartbeat", "market"]
        if "api" in self.roles:
            expected.append("ws-hub")
        return expected

    def redacted_settings(self) -> dict[str, Any]:
        """Effective settings with every secret masked (pydantic prints SecretStr as '**********')."""
        dumped = self.settings.model_dump(mode="json")
        dumped["database_url"] = make_url(self.settings.database_url).render_as_string(hide_password=True)
        if "@" in self.settings.event_bus_url:
            dumped["event_bus_url"] = make_url(self.settings.event_bus_url).render_as_string(hide_password=True)
        return dumped

    def integrations(self) -> dict[str, Any]:
        """Each integration: enabled, reason, how to enable, and live state (feed, freshness) where known."""
        statuses = {name: status.to_dict() for name, status in self.settings.integrations().items()}
        statuses["market_data"] = {**statuses["market_data"], **self.market.status()}
        return statuses

    def risk_state(self) -> dict[str, Any] | None:
        broker = self.settings.integrations()["broker"]
        if not broker.enabled:
            return unknown_risk_state(f"broker not configured: {broker.reason}", broker.how_to_enable)
        return unknown_risk_state("risk engine not running yet", "the risk engine starts with the broker")
