"""Settings: the design's names and defaults, env and .env parsing, secrets kept secret, integration status."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from core.settings import Settings

CLEAN = {"_env_file": None}


def test_defaults_match_the_design_table(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(**CLEAN)  # type: ignore[arg-type]
    assert settings.database_url == "sqlite+aiosqlite:///var/tradeassist.db"
    assert settings.event_bus_url == "memory://"
    assert (settings.api_host, settings.api_port) == ("127.0.0.1", 8000)
    assert settings.polygon.rest_url == "https://api.polygon.io"
    assert settings.polygon.ws_url == "wss://socket.polygon.io/stocks"
    assert settings.tradier.env == "sandbox"
    assert settings.tradier.effective_base_url == "https://sandbox.tradier.com/v1"
    assert settings.llm.provider == "openai"
    assert settings.discord.api_url == "https://discord.com/api/v10"
    assert settings.discord.gateway_url == "wss://gateway.discord.gg/"
    assert settings.slack.api_url == "https://slack.com/api/"
    assert settings.watchlist == ["SPY", "QQQ"]
    assert settings.traders == []
    assert (settings.alert_poll_sec, settings.risk_eval_sec) == (15, 5)
    assert (settings.order_confirm_ttl_sec, settings.order_max_slippage_bps) == (90, 50)
    assert settings.max_active_alerts == 1000
    assert settings.price_event_hz == 4
    assert settings.options_risk_free_rate == 0.04


def test_var_dir_moves_the_default_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "state"))
    settings = Settings(**CLEAN)  # type: ignore[arg-type]
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path}/state/tradeassist.db"


def test_an_explicit_database_url_wins_over_var_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://db/trading")
    assert Settings(**CLEAN).database_url == "postgresql+asyncpg://db/trading"  # type: ignore[arg-type]


def test_environment_names_and_list_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLYGON_API_KEY", "pk-secret-123456")
    monkeypatch.setenv("WATCHLIST", "aapl, brk.b ,SPY")
    monkeypatch.setenv("TRADERS", "discord:1,slack:T1:U2,api")
    monkeypatch.setenv("DISCORD_GUILD_IDS", "11,22")
    monkeypatch.setenv("DISCORD_WEBHOOK_ALERT_TYPES", "crossed,risk")
    monkeypatch.setenv("TRADIER_BASE_URL", "http://127.0.0.1:9999/v1/")
    settings = Settings(**CLEAN)  # type: ignore[arg-type]
    assert settings.polygon.api_key is not None
    assert settings.polygon.api_key.get_secret_value() == "pk-secret-123456"
    assert settings.watchlist == ["AAPL", "BRK.B", "SPY"]
    assert settings.traders == ["discord:1", "slack:T1:U2", "api"]
    assert settings.discord.guild_ids == [11, 22]
    assert settings.discord.webhook_alert_types == ["crossed", "risk"]
    assert settings.tradier.effective_base_url == "http://127.0.0.1:9999/v1"
    assert "pk-secret-123456" not in repr(settings)
    assert "pk-secret-123456" not in str(settings.model_dump())


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("API_PORT=9100\nTRADIER_ACCESS_TOKEN=tok-abcdef\nTRADIER_ACCOUNT_ID=VA1\n")
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.api_port == 9100
    assert settings.integrations()["broker"].enabled
    assert "PAPER" in settings.integrations()["broker"].reason


def test_every_integration_disabled_by_default_says_how_to_enable() -> None:
    statuses = Settings(**CLEAN).integrations()  # type: ignore[arg-type]
    assert set(statuses) == {"market_data", "broker", "coach", "discord", "discord_webhook", "slack"}
    for status in statuses.values():
        assert not status.enabled
        assert "not set" in status.reason
        assert status.how_to_enable.startswith("set ")


def test_chatdata_provider_needs_its_own_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_PROVIDER", "chatdata")
    monkeypatch.setenv("LLM_API_KEY", "cd-key-123456")
    coach = Settings(**CLEAN).integrations()["coach"]  # type: ignore[arg-type]
    assert not coach.enabled
    assert "CHATDATA_CHATBOT_ID" in coach.reason


def test_production_broker_refused_without_allow_live_trading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADIER_ENV", "production")
    with pytest.raises(ValidationError, match="ALLOW_LIVE_TRADING=true"):
        Settings(**CLEAN)  # type: ignore[arg-type]
    monkeypatch.setenv("ALLOW_LIVE_TRADING", "true")
    assert Settings(**CLEAN).tradier.effective_base_url == "https://api.tradier.com/v1"  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "value"), [("API_PORT", "0"), ("RISK_EVAL_SEC", "-1"), ("TRADIER_ENV", "paper"),
                                             ("WATCHLIST", "SPY,not a symbol")])
def test_bad_environment_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings(**CLEAN)  # type: ignore[arg-type]
