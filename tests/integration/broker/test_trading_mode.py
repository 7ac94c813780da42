"""LIVE or PAPER comes from the host orders actually go to, and every surface shows that one value: settings,
the broker status (REST /diag, Discord and Slack status, doctor), and each order proposal (REST, dashboard, bots)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from api.app import create_app
from core.adapters.tradier.broker import TradierBroker
from core.errors import IntegrationDisabled
from core.runtime import Runtime
from core.settings import Settings, TradierSettings
from tests.conftest import API_KEY
from tests.doubles.tradier import ACCOUNT, TOKEN, TradierDouble
from tests.integration.orders_helpers import unthrottled
from tradeassist.doctor import run_doctor

PRODUCTION = "https://api.tradier.com/v1"


def tradier_at(env: str = "sandbox", base_url: str | None = None) -> TradierSettings:
    return TradierSettings(_env_file=None, access_token=TOKEN, account_id=ACCOUNT, env=env,  # type: ignore[call-arg]
                           base_url=base_url)


@pytest.mark.parametrize(("env", "base_url", "mode"), [
    ("sandbox", None, "PAPER"),
    ("sandbox", "https://sandbox.tradier.com/v1", "PAPER"),
    ("production", "https://sandbox.tradier.com/v1/", "PAPER"),   # the sandbox host is paper whatever env says
    ("production", None, "LIVE"),
    ("sandbox", PRODUCTION, "LIVE"),                              # the host called decides, not TRADIER_ENV
    ("sandbox", "https://API.TRADIER.COM/v1", "LIVE"),
    ("sandbox", "https://tradier-proxy.example.com/v1", "LIVE"),  # any other real host may reach real money
    ("sandbox", "https://sandbox.tradier.com.example.com/v1", "LIVE"),
    ("sandbox", "http://127.0.0.1:9999/v1", "PAPER"),             # a local double: the mode TRADIER_ENV names
    ("production", "http://127.0.0.1:9999/v1", "LIVE"),
    ("sandbox", "http://localhost:9999/v1", "PAPER"),
    ("production", "http://[::1]:9999/v1", "LIVE"),
])
def test_mode_is_derived_from_the_host_and_live_needs_the_opt_in(env: str, base_url: str | None, mode: str) -> None:
    settings = tradier_at(env, base_url)
    assert settings.trading_mode == mode
    if mode == "LIVE":
        with pytest.raises(ValidationError, match="ALLOW_LIVE_TRADING=true"):
            Settings(_env_file=None, tradier=settings)  # type: ignore[call-arg]
    live = Settings(_env_file=None, tradier=settings, allow_live_trading=True)  # type: ignore[call-arg]
    status = live.integrations()["broker"]
    assert status.enabled and status.reason == f"Tradier at {settings.host} ({mode})"


def test_the_refusal_says_where_orders_would_go() -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=None, tradier=tradier_at("sandbox", PRODUCTION))  # type: ignore[call-arg]
    assert "orders go to api.tradier.com, Tradier's production API: real orders with real money" in str(raised.value)


@pytest.mark.parametrize("base_url", ["api.tradier.com/v1", "ftp://api.tradier.com/v1", "https:///v1"])
def test_a_base_url_without_a_scheme_or_host_is_refused(base_url: str) -> None:
    with pytest.raises(ValidationError, match="TRADIER_BASE_URL must be an http\\(s\\) URL with a host"):
        tradier_at(base_url=base_url)


def test_the_broker_client_refuses_a_live_host_without_the_opt_in() -> None:
    settings = Settings(_env_file=None, tradier=tradier_at("sandbox", PRODUCTION),  # type: ignore[call-arg]
                        allow_live_trading=True)
    settings.allow_live_trading = False  # the client checks again rather than trusting its caller
    with pytest.raises(IntegrationDisabled) as raised:
        TradierBroker.from_settings(settings)
    assert "api.tradier.com" in raised.value.message and "ALLOW_LIVE_TRADING" in raised.value.message


async def test_a_production_url_shows_live_on_every_status_surface(make_settings: Callable[..., Settings],
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """TRADIER_ENV left at sandbox, TRADIER_BASE_URL at production: nothing may say sandbox or PAPER. No request
    reaches the host (the API role starts no broker polling)."""
    settings = make_settings(tradier=tradier_at("sandbox", PRODUCTION), allow_live_trading=True)
    async with Runtime(settings, roles={"api"}) as rt:
        assert rt.orders.mode == "LIVE"
        broker = rt.integrations()["broker"]
        assert broker["reason"] == "Tradier at api.tradier.com (LIVE)"
        assert "sandbox" not in str(broker) and "PAPER" not in str(broker)
    await run_doctor(settings, timeout=5)
    doctor = [line for line in capsys.readouterr().out.splitlines() if line.startswith("broker")]
    assert doctor and "(LIVE)" in doctor[0] and "sandbox" not in doctor[0]


async def test_proposals_carry_the_derived_mode(make_settings: Callable[..., Settings], database_url: str,
                                               tradier: TradierDouble, tmp_path: Path) -> None:
    settings = make_settings(database_url=database_url, allow_live_trading=True, traders=["api"],
                             tradier=TradierSettings(_env_file=None, access_token=TOKEN,  # type: ignore[call-arg]
                                                     account_id=ACCOUNT, env="production", base_url=tradier.base_url))
    app = create_app(settings, roles=frozenset({"api"}))
    async with app.router.lifespan_context(app):
        unthrottled(app.state.runtime)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                     headers={"X-API-Key": API_KEY}) as http:
            order: dict[str, Any] = {"symbol": "AAPL", "side": "buy", "quantity": 1, "type": "market"}
            body = (await http.post("/api/v1/broker/orders", json=order)).json()
            assert body["mode"] == "LIVE" and body["intent"]["mode"] == "LIVE"
            assert (await http.get("/api/v1/stream/orders")).json()["mode"] == "LIVE"
            status = (await http.get("/api/v1/diag/config")).json()["integrations"]["broker"]
    assert status["reason"] == "Tradier at 127.0.0.1 (LIVE)"
