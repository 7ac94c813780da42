"""Composition root: builds adapters, services and engines for the roles a process plays, and owns their tasks.

    async with Runtime(settings, roles={"api", "engine"}) as rt:
        ...

Every long-running task goes through `rt.spawn()`: it is kept, its failure is logged, and it is cancelled on exit.
"""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from types import TracebackType
from typing import Any, Literal

import msgspec
import structlog
from sqlalchemy.engine import make_url

from core.adapters.discord_webhook import DiscordWebhookNotifier
from core.adapters.feeds import FeedClient
from core.adapters.llm import build_llm
from core.adapters.polygon.rest import PolygonMarketData
from core.adapters.polygon.stream import PolygonFeed
from core.adapters.tradier.broker import TradierBroker
from core.bus import InProcessBus, create_bus
from core.db.migrate import upgrade_to_head
from core.db.session import Database
from core.domain.confidence import Factor
from core.domain.risk import RiskState
from core.domain.risk_view import RiskStateView
from core.engines.alert_events import RiskCacheContext
from core.engines.alerts import AlertEngine
from core.engines.delivery import BusNotifier, DeliveryEngine
from core.engines.heartbeat import run_heartbeat
from core.engines.kpis import KpiMonitor
from core.engines.news import NewsEngine
from core.engines.orders import OrderTracker
from core.engines.picks import PicksEngine
from core.engines.risk import RiskEngine
from core.engines.stream import StreamEngine
from core.errors import CoreError, IntegrationDisabled
from core.ports import EventBus
from core.services.account import AccountService
from core.services.actions import ActionService
from core.services.alerts import AlertService
from core.services.chart import ChartService
from core.services.coach import CoachConfig, CoachService
from core.services.coach_deps import OptionalServices
from core.services.coach_tools import CoachTools
from core.services.journal import JournalService
from core.services.market import MarketService
from core.services.news import EarningsProvider, NewsService
from core.services.option_hedge import OptionHedges
from core.services.options import OptionsService
from core.services.options_take import OptionTakes
from core.services.order_tokens import TokenSigner, load_secret
from core.services.orders import OrderService
from core.services.picks import PicksService
from core.services.plans import PlanService
from core.services.position_orders import PositionOrders
from core.services.risk import RiskService
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
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self.journal = JournalService(self.db)
        self._market_data: PolygonMarketData | None = None
        self.market = self._build_market()
        self.broker = self._build_broker()
        self.chart = ChartService(self.market, self.db, self.broker)
        self.news, self.news_engine = self._build_news()
        self.risk, self.plans = self._build_risk()
        self.account, self.orders, self.order_tracker = self._build_orders()
        self.options = OptionsService(broker=self.broker, market=self.market, plans=self.plans,
                                      polygon_enabled=self.settings.polygon.api_key is not None,
                                      rate=self.settings.options_risk_free_rate, earnings=self.news.earnings)
        self.option_hedges = OptionHedges(self.options, self.orders)
        self.position_orders = PositionOrders(self.orders, self.options, self.option_hedges)
        self.option_takes = OptionTakes(self.options, self.orders)
        self.coach, self.coach_disabled = self._build_coach()
        self.alerts, self.alert_engine, self.delivery = self._build_alerts()
        self.news.on_queued = self.delivery.wake
        self.picks, self.picks_engine = self._build_picks()
        self.kpis = self._build_kpis()
        self.actions = ActionService(traders=settings.traders, orders=self.orders, alerts=self.alerts, risk=self.risk,
                                     plans=self.plans, picks=self.picks, positions=self.position_orders)
        self.started = False

    async def __aenter__(self) -> Runtime:
        if self.migrate:
            await upgrade_to_head(self.db)
        await self.bus.start()
        if "engine" in self.roles:
            self.spawn(run_heartbeat(self.bus, self.settings.risk_eval_sec, status=self.integrations,
                                     risk_state=self.risk_state), name="heartbeat")
        await self._start_market()
        self._start_news()
        await self._start_risk()
        await self._start_orders()
        await self._start_alerts()
        self._start_picks()
        self.spawn(self.kpis.run(), name="kpis")
        # What start-up built (the imported code alone is ~230k objects) lives until shutdown. Frozen out of the
        # cyclic collector's view, a full collection walks only what came after; otherwise each one stalls every
        # surface's event loop for 150-230 ms on a 2-vCPU host (`python -m bench discord_bot`, the ack p99).
        gc.freeze()
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
                await self.market.watch(self.watched_symbols(tunables.watchlist))

        self.settings_service.on_change(resubscribe)

    def _build_broker(self) -> TradierBroker | None:
        """One Tradier client (one rate limiter) for risk, orders, the tracker and the coach; None when disabled."""
        try:
            return TradierBroker.from_settings(self.settings)
        except IntegrationDisabled:
            return None

    def _build_news(self) -> tuple[NewsService, NewsEngine | None]:
        """News from Polygon and the `news_feeds` setting; earnings from every calendar the credentials allow.
        The engine (the only writer) runs in the engine role."""
        feeds = FeedClient()
        self._closers.append(feeds.aclose)
        market = self.settings.integrations()["market_data"]
        broker = self.settings.integrations()["broker"]
        earnings = [EarningsProvider("polygon:benzinga", self._market_data, market.reason, market.how_to_enable),
                    EarningsProvider("tradier:calendars", self.broker, broker.reason, broker.how_to_enable)]
        service = NewsService(self.db, self.bus, self.settings_service, feeds=feeds, polygon=self._market_data,
                              polygon_disabled=market.reason, polygon_how_to_enable=market.how_to_enable,
                              earnings=earnings, webhook_types=self.settings.discord.webhook_alert_types)
        engine = NewsEngine(service, interval=self.settings.news_poll_sec) if "engine" in self.roles else None
        return service, engine

    def _start_news(self) -> None:
        if self.news_engine is not None:
            self.settings_service.on_change(self.news_engine.on_settings)
            self.spawn(self.news_engine.run(), name="news")

    def _build_risk(self) -> tuple[RiskService, PlanService]:
        status = self.settings.integrations()["broker"]
        risk = RiskService(broker=self.broker, settings_service=self.settings_service, market=self.market,
                           eval_sec=self.settings.risk_eval_sec, disabled_reason=status.reason,
                           how_to_enable=status.how_to_enable,
                           collar_pct=self.settings.order_price_collar_pct)
        plans = PlanService(self.settings_service, risk, self.market,
                            market_enabled=self.settings.polygon.api_key is not None, news=self.news)
        return risk, plans

    async def _start_risk(self) -> None:
        if self.broker is not None:
            self._closers.append(self.broker.aclose)
        if "engine" in self.roles and self.risk.enabled:
            self.spawn(RiskEngine(self.risk, self.bus, interval=self.settings.risk_eval_sec).run(), name="risk")

    def _build_orders(self) -> tuple[AccountService, OrderService, OrderTracker | None]:
        """Orders use the risk service as their gate. The tracker runs in the engine role only."""
        status = self.settings.integrations()["broker"]
        account = AccountService(self.db, self.broker, mode=self.settings.tradier.trading_mode,
                                 disabled=IntegrationDisabled("broker", status.reason, status.how_to_enable))
        service = OrderService(
            self.db, self.bus, account, signer=TokenSigner(load_secret(self.settings)),
            traders=self.settings.traders, confirm_ttl_sec=self.settings.order_confirm_ttl_sec,
            max_slippage_bps=self.settings.order_max_slippage_bps, risk_gate=self.risk)
        tracker = None
        if "engine" in self.roles and self.broker is not None:
            tracker = OrderTracker(service, self.broker, self.bus)
        return account, service, tracker

    async def _start_orders(self) -> None:
        self._closers.append(self.orders.aclose)
        if self.order_tracker is not None:
            self.spawn(self.order_tracker.run(), name="orders")

    def _build_coach(self) -> tuple[CoachService | None, IntegrationDisabled | None]:
        """The coach when LLM_* is configured (else why not). Without a broker its risk/account/order tools tell
        the model why they are unavailable. The LLM client is closed on stop."""
        try:
            llm = build_llm(self.settings, timeout=CoachConfig().turn_timeout)
        except IntegrationDisabled as exc:
            return None, exc
        self._closers.append(llm.aclose)
        broker = self.settings.integrations()["broker"]
        why = (broker.reason, broker.how_to_enable)

        def services() -> OptionalServices:
            enabled = self.broker is not None
            market = self.settings.integrations()["market_data"]
            return OptionalServices(
                risk=self.risk if enabled else None, account=self.broker, orders=self.orders if enabled else None,
                picks=self.picks if market.enabled else None,
                unavailable={"risk": why, "broker": why, "orders": why,
                             "picks": (f"picks need market data: {market.reason}", market.how_to_enable)},
                options=self.options if self.options.enabled else None)

        tools = CoachTools(market=self.market, settings=self.settings_service, journal=self.journal,
                           resolve=services, news=self.news)
        return CoachService(self.db, llm, tools), None

    def _build_alerts(self) -> tuple[AlertService, AlertEngine | None, DeliveryEngine]:
        """AlertService everywhere; the engine (index, writer, poller) in the engine role; the delivery engine
        everywhere (a bot process registers its own notifier), started where a channel is registered."""
        delivery = DeliveryEngine(self.db)
        engine = None
        if "engine" in self.roles:
            engine = AlertEngine(self.db, self.bus, self.market, self.settings_service,
                                 poll_sec=self.settings.alert_poll_sec,
                                 webhook_types=self.settings.discord.webhook_alert_types,
                                 context=RiskCacheContext(self.risk), on_committed=delivery.wake,
                                 llm=self.coach.llm if self.coach is not None else None)
        service = AlertService(self.db, self.market, max_active=self.settings.max_active_alerts, engine=engine)
        return service, engine, delivery

    async def _start_alerts(self) -> None:
        if self.alert_engine is None:
            return
        self.delivery.register(BusNotifier(self.bus))
        webhook = self.settings.discord.webhook_url
        if webhook is not None:
            notifier = DiscordWebhookNotifier(webhook.get_secret_value(), dashboard_url=self.dashboard_url,
                                              alert_types=self.settings.discord.webhook_alert_types)
            self._closers.append(notifier.aclose)
            self.delivery.register(notifier)
        started = await self._start_alert_engine(self.alert_engine)
        self.spawn(self._run_alerts(self.alert_engine, started), name="alerts")

    async def _start_alert_engine(self, engine: AlertEngine) -> bool:
        try:
            await engine.start()
            await self.delivery.start(lambda coro, name: self.spawn(coro, name=name))
        except Exception as exc:  # e.g. the database is not migrated yet: /diag/ready says so, we retry
            log.error("runtime.alerts_start_failed", error=str(exc))
            return False
        return True

    async def _run_alerts(self, engine: AlertEngine, started: bool) -> None:
        while not started:
            await asyncio.sleep(2)
            started = await self._start_alert_engine(engine)
        await engine.run(reconcile_sec=None if "api" in self.roles else self.settings.alert_poll_sec)

    def _build_kpis(self) -> KpiMonitor:
        """Every process measures its part of the KPIs; on a bus shared by several processes each one adds up the
        others' windows and the engine alone announces breaches (on the in-process bus this process is all)."""
        shared = not isinstance(self.bus, InProcessBus)
        return KpiMonitor(self.bus, self.market, self.settings.integrations, interval=self.settings.risk_eval_sec,
                          process=f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}", roles=self.roles,
                          shared=shared, announce="engine" in self.roles or not shared)

    def _build_picks(self) -> tuple[PicksService, PicksEngine | None]:
        """The picks service everywhere; the scanner engine where the market feed runs (the engine role)."""
        market = self.settings.integrations()["market_data"]
        service = PicksService(self.db, None, plans=self.plans, risk=self.risk, coach=lambda: self.coach,
                               market_disabled=None if market.enabled else market.reason)
        if "engine" not in self.roles or self._market_data is None:
            return service, None

        async def risk_state() -> RiskState | None:
            if not self.risk.enabled:
                return None
            try:
                return (await self.risk.current())[0]
            except CoreError as exc:
                log.warning("runtime.picks_risk_unknown", error=exc.message)
                return None

        async def watch(_symbols: set[str]) -> None:
            await self.market.watch(self.watched_symbols((await self.settings_service.get()).watchlist))

        def catalysts(symbol: str) -> tuple[Factor, ...]:
            factor = self.news.pick_factor(symbol)
            return (factor,) if factor is not None else ()

        engine = PicksEngine(self.market.engine, self._market_data, self.bus, self.settings_service, service.store,
                             risk_state=risk_state, watch=watch, extra_factors=catalysts)
        service.engine = engine
        return service, engine

    def _start_picks(self) -> None:
        if self.picks_engine is not None:
            self.settings_service.on_change(self.picks_engine.tunables_changed())
            self.spawn(self.picks_engine.run(), name="picks")

    @property
    def dashboard_url(self) -> str:
        return f"http://{self.settings.api_host}:{self.settings.api_port}/"

    def watched_symbols(self, watchlist: Iterable[str]) -> set[str]:
        """What the market feed subscribes: the watchlist, every live alert's symbol and the picks universe."""
        engine, picks = self.alert_engine, getattr(self, "picks_engine", None)
        return (set(watchlist) | (engine.symbols() if engine is not None else set())
                | (set(picks.universe.symbols) if picks is not None else set()))

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("runtime.task_failed", task=task.get_name(), exc_info=task.exception())

    def add_closer(self, close: Callable[[], Awaitable[None]]) -> None:
        """Run `close` on stop, after the tasks have ended (last added, first closed)."""
        self._closers.append(close)

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
        gc.unfreeze()  # the start-up heap may be collected again
        log.info("runtime.stopped")

    def expected_tasks(self) -> list[str]:
        """The long-running tasks this process must have for /diag/ready to say ready."""
        expected = []
        if "engine" in self.roles:
            expected += ["heartbeat", "market", "news"]
            if self.risk.enabled:
                expected.append("risk")
            if self.order_tracker is not None:
                expected.append("orders")
            if self.alert_engine is not None:
                expected += ["alerts", "delivery-ws"]
            if self.picks_engine is not None:
                expected.append("picks")
        if "api" in self.roles:
            expected.append("ws-hub")
        expected.append("kpis")
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
        live = {key: value for key, value in msgspec.to_builtins(self.market.status()).items()
                if value not in ("", None)}
        statuses["market_data"] = {**statuses["market_data"], **live}
        return statuses

    def risk_state(self) -> RiskStateView | None:
        if "engine" in self.roles and self.risk.enabled:
            return None  # the risk engine (core/engines/risk.py) publishes `risk`
        broker = self.settings.integrations()["broker"]
        if not broker.enabled:
            return RiskStateView.unknown(f"broker not configured: {broker.reason}", broker.how_to_enable)
        return RiskStateView.unknown("risk engine not running yet", "the risk engine starts with the broker")
