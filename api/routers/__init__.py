"""Every REST router of `/api/v1`, in one list so a feature adds its router in one line."""

from fastapi import APIRouter

from api.routers import alerts, broker, coach, diag, journal, market, news, options, picks, plan, risk, settings, stream
from api.routers.actions import router as actions_router
from api.routers.chart import router as chart_router

ROUTERS: list[APIRouter] = [diag.public, diag.private, settings.router, journal.router, market.router, stream.router]
ROUTERS += [plan.router, risk.router]
ROUTERS += [coach.router]
ROUTERS += [broker.router, broker.stream_router]
ROUTERS += [alerts.router]
ROUTERS += [news.router]
ROUTERS += [options.router]
ROUTERS += [picks.router]
ROUTERS += [chart_router]
ROUTERS += [actions_router]
