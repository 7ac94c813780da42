"""GET/PUT the tunables (partial updates, every field validated, nothing written unless all of it is valid).

The body also shows what the trader cannot change here: the integrations (state and how to enable, never a
secret) and the trading mode, which only the environment sets (PUT refuses both, naming the field).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field, create_model

from api.auth import require_api_key
from api.deps import runtime_of
from api.schemas import json_response, partial_model
from core.domain.orders import TradingMode
from core.errors import Invalid
from core.runtime import Runtime
from core.services.settings import (
    ALERT_CHANNELS,
    ALERT_TYPES,
    NEWS_ALERT,
    NEWS_CHANNELS,
    NEWS_ROUTING_NOTE,
    RiskLimitsSettings,
    Tunables,
)

router = APIRouter(prefix="/settings", tags=["settings"], dependencies=[Depends(require_api_key)])

TRADING_MODE_HOW = "set TRADIER_ENV/ALLOW_LIVE_TRADING in the environment"
INTEGRATIONS_HOW = "integrations are enabled by their environment variables (see each one's how_to_enable)"
READ_ONLY = {"trading_mode": TRADING_MODE_HOW, "integrations": INTEGRATIONS_HOW,
             "alert_routing_options": "the channels and alert types the product knows"}


class IntegrationView(BaseModel):
    name: str
    enabled: bool
    state: str = Field(description="disabled | enabled, or the market data stream's live state")
    reason: str
    how_to_enable: str


class TradingModeView(BaseModel):
    mode: TradingMode = Field(description="PAPER (Tradier sandbox) or LIVE, from the environment")
    broker_configured: bool
    editable: Literal[False] = False
    how_to_change: str


class TypeRouting(BaseModel):
    """An alert type that reaches only some channels."""

    channels: list[str]
    note: str = Field(description="why the other channels are not offered")


class AlertRoutingOptions(BaseModel):
    channels: list[str]
    types: list[str]
    only: dict[str, TypeRouting] = Field(description="types that route to some channels only; every other type "
                                                     "routes to any channel")


class SettingsView(Tunables):
    """The editable tunables, then what is shown here but set elsewhere."""

    integrations: list[IntegrationView]
    trading_mode: TradingModeView
    alert_routing_options: AlertRoutingOptions


def _view(runtime: Runtime, tunables: dict[str, Any]) -> dict[str, Any]:
    integrations = []
    for name, status in runtime.integrations().items():
        state = status.get("state") or ("enabled" if status["enabled"] else "disabled")
        integrations.append(IntegrationView(name=name, enabled=status["enabled"], state=str(state),
                                            reason=status["reason"], how_to_enable=status["how_to_enable"]))
    mode = TradingModeView(mode=runtime.settings.tradier.trading_mode,
                           broker_configured=runtime.settings.integrations()["broker"].enabled,
                           how_to_change=TRADING_MODE_HOW)
    options = AlertRoutingOptions(channels=list(ALERT_CHANNELS), types=[*ALERT_TYPES, NEWS_ALERT],
                                  only={NEWS_ALERT: TypeRouting(channels=list(NEWS_CHANNELS), note=NEWS_ROUTING_NOTE)})
    return {**tunables, "integrations": [i.model_dump() for i in integrations], "trading_mode": mode.model_dump(),
            "alert_routing_options": options.model_dump()}


@router.get("", response_model=SettingsView)
async def get_settings(request: Request) -> Response:
    runtime = runtime_of(request)
    return json_response(_view(runtime, await runtime.settings_service.get_dumped()))


# Any subset of the tunables; a section (`risk`) may itself be partial. The read-only parts are accepted by the
# schema only so that sending one is answered with where it is set instead of "extra field".
SettingsPatch = create_model(
    "SettingsPut", __base__=partial_model(Tunables, risk=partial_model(RiskLimitsSettings)),
    trading_mode=(str | dict[str, Any] | None, Field(None, description=f"read-only: {TRADING_MODE_HOW}")),
    integrations=(list[Any] | dict[str, Any] | None, Field(None, description=f"read-only: {INTEGRATIONS_HOW}")),
    alert_routing_options=(dict[str, Any] | None, Field(None, description="read-only")))


@router.put("", response_model=SettingsView)
async def put_settings(patch: SettingsPatch, request: Request) -> Response:
    sent = patch.model_fields_set
    refused = [name for name in READ_ONLY if name in sent]
    if refused:
        raise Invalid(f"{', '.join(refused)} cannot be changed here: "
                      + "; ".join(f"{name}: {READ_ONLY[name]}" for name in refused),
                      details=[{"field": name, "code": "read_only", "message": READ_ONLY[name]} for name in refused])
    changes = patch.model_dump(mode="json", exclude_unset=True)
    runtime = runtime_of(request)
    updated = await runtime.settings_service.update(changes, actor="api")
    return json_response(_view(runtime, updated.model_dump(mode="json")))
