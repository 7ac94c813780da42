"""Every REST router of `/api/v1`, in one list so a feature adds its router in one line."""

from fastapi import APIRouter

from api.routers import diag, journal, settings

ROUTERS: list[APIRouter] = [diag.public, diag.private, settings.router, journal.router]
