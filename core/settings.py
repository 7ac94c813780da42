"""Process settings: environment variables (and `.env`), one nested group per integration.

Every external base URL is a setting so tests and users behind proxies can point it elsewhere. Secrets are
``SecretStr`` and never leave this module in clear text except through ``.get_secret_value()`` at an adapter.
Tunables that a trader edits at run time (risk limits, watchlist, ...) live in the database instead
(core/services/settings.py).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.domain.options_types import DEFAULT_RATE
from core.domain.orders import TradingMode
from core.domain.symbols import normalize_symbol
from core.errors import Invalid

MIN_SECRET_CHARS = 32


def _config(prefix: str = "") -> SettingsConfigDict:
    """A refused value is never repeated in the error: it may be a secret, and start-up errors are logged."""
    return SettingsConfigDict(env_prefix=prefix, env_file=".env", env_file_encoding="utf-8", extra="ignore",
                             env_ignore_empty=True, hide_input_in_errors=True)


def _csv(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class PolygonSettings(BaseSettings):
    model_config = _config("POLYGON_")
    api_key: SecretStr | None = None
    rest_url: str = "https://api.polygon.io"
    ws_url: str = "wss://socket.polygon.io/stocks"


TRADIER_SANDBOX_HOST = "sandbox.tradier.com"
TRADIER_PRODUCTION_HOST = "api.tradier.com"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class TradierSettings(BaseSettings):
    """Where orders go. LIVE or PAPER is read from the host actually called, not from `env` alone: Tradier's
    sandbox host is PAPER; its production host, and any other host that is not loopback (a proxy, a typo), is
    LIVE; a loopback host (a local test double) takes the mode `env` names."""

    model_config = _config("TRADIER_")
    access_token: SecretStr | None = None
    account_id: str | None = None
    env: Literal["sandbox", "production"] = "sandbox"
    base_url: str | None = None

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        parts = urlsplit(value) if value is not None else None
        if parts is not None and (parts.scheme not in ("http", "https") or not parts.hostname):
            raise ValueError(f"TRADIER_BASE_URL must be an http(s) URL with a host, e.g. "
                             f"https://{TRADIER_SANDBOX_HOST}/v1 (got {value!r})")
        return value

    @property
    def effective_base_url(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        if self.env == "production":
            return f"https://{TRADIER_PRODUCTION_HOST}/v1"
        return f"https://{TRADIER_SANDBOX_HOST}/v1"

    @property
    def host(self) -> str:
        return urlsplit(self.effective_base_url).hostname or ""

    @property
    def trading_mode(self) -> TradingMode:
        host = self.host
        if host == TRADIER_SANDBOX_HOST:
            return "PAPER"
        if _is_loopback(host):
            return "LIVE" if self.env == "production" else "PAPER"
        return "LIVE"

    def live_reason(self) -> str:
        """Why orders go to a live account (for the refusal without ALLOW_LIVE_TRADING)."""
        host = self.host
        if host == TRADIER_PRODUCTION_HOST:
            return f"orders go to {host}, Tradier's production API: real orders with real money"
        if _is_loopback(host):
            return f"TRADIER_ENV=production names a live account behind {host}"
        return (f"orders go to {host}, which is not Tradier's sandbox ({TRADIER_SANDBOX_HOST}), so they are "
                "treated as real orders with real money")


class LLMSettings(BaseSettings):
    model_config = _config("LLM_")
    provider: Literal["openai", "chatdata"] = "openai"
    base_url: str | None = None
    api_key: SecretStr | None = None
    model: str | None = None


class ChatDataSettings(BaseSettings):
    model_config = _config("CHATDATA_")
    chatbot_id: str | None = None


class DiscordSettings(BaseSettings):
    model_config = _config("DISCORD_")
    bot_token: SecretStr | None = None
    guild_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    alert_channel_id: int | None = None
    api_url: str = "https://discord.com/api/v10"
    gateway_url: str = "wss://gateway.discord.gg/"
    webhook_url: SecretStr | None = None
    webhook_alert_types: Annotated[list[str], NoDecode] = Field(default_factory=list)

    _split = field_validator("guild_ids", "webhook_alert_types", mode="before")(_csv)


class SlackSettings(BaseSettings):
    model_config = _config("SLACK_")
    bot_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    app_token: SecretStr | None = None
    alert_channel: str | None = None
    api_url: str = "https://slack.com/api/"


@dataclass(frozen=True, slots=True)
class IntegrationStatus:
    """Whether an integration runs, and if not, why and how to turn it on."""

    name: str
    enabled: bool
    reason: str
    how_to_enable: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "enabled": self.enabled, "reason": self.reason,
                "how_to_enable": self.how_to_enable}


class Settings(BaseSettings):
    """Everything a process needs to start. Defaults run the whole product on one machine."""

    model_config = _config()

    database_url: str = ""  # unset: a SQLite file in var_dir (filled in by _default_database)
    event_bus_url: str = "memory://"
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    api_key: SecretStr | None = None
    metrics_token: SecretStr | None = None
    allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    var_dir: str = "var"
    log_level: str = "INFO"

    watchlist: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["SPY", "QQQ"])
    traders: Annotated[list[str], NoDecode] = Field(default_factory=list)
    allow_live_trading: bool = False

    alert_poll_sec: float = Field(default=15, gt=0)
    risk_eval_sec: float = Field(default=5, gt=0)
    order_confirm_ttl_sec: int = Field(default=90, gt=0)
    order_max_slippage_bps: int = Field(default=50, ge=0)
    order_price_collar_pct: Decimal = Field(default=Decimal(10), gt=0, le=100)
    max_active_alerts: int = Field(default=1000, gt=0)
    price_event_hz: float = Field(default=4, gt=0)
    news_poll_sec: float = Field(default=60, gt=0)
    options_risk_free_rate: float = Field(default=DEFAULT_RATE, ge=-0.05, le=0.5)

    polygon: PolygonSettings = Field(default_factory=PolygonSettings)
    tradier: TradierSettings = Field(default_factory=TradierSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    chatdata: ChatDataSettings = Field(default_factory=ChatDataSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)

    _split = field_validator("watchlist", "traders", "allowed_hosts", mode="before")(_csv)

    @field_validator("api_key", "metrics_token")
    @classmethod
    def _long_secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        """A short key can be guessed over the network; refused at start, with how to make a good one."""
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_CHARS:
            name = str(info.field_name).upper()
            unset = " (or unset API_KEY to have one generated into var/api_key)" if name == "API_KEY" else ""
            raise ValueError(
                f"{name} has {len(value.get_secret_value())} characters, at least {MIN_SECRET_CHARS} are required; "
                f"generate one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`{unset}")
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _lower_hosts(cls, value: list[str]) -> list[str]:
        return [host.lower() for host in value]

    @field_validator("watchlist")
    @classmethod
    def _upper_symbols(cls, value: list[str]) -> list[str]:
        try:
            return [normalize_symbol(symbol) for symbol in value]
        except Invalid as exc:
            raise ValueError(f"WATCHLIST: {exc.message}") from exc

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{Path(self.var_dir) / 'tradeassist.db'}"
        return self

    @model_validator(mode="after")
    def _refuse_unguarded_live_trading(self) -> Settings:
        if self.tradier.trading_mode == "LIVE" and not self.allow_live_trading:
            raise ValueError(
                f"{self.tradier.live_reason()}; set ALLOW_LIVE_TRADING=true to confirm that this is intended, or "
                f"use the paper account (TRADIER_ENV=sandbox and TRADIER_BASE_URL unset or "
                f"https://{TRADIER_SANDBOX_HOST}/v1)"
            )
        return self

    @property
    def served_hosts(self) -> list[str]:
        """Host names the API answers to: API_HOST, the loopback names, and ALLOWED_HOSTS."""
        hosts = [self.api_host.lower(), "localhost", "127.0.0.1", *self.allowed_hosts]
        return list(dict.fromkeys(hosts))

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def integrations(self) -> dict[str, IntegrationStatus]:
        """The status of every integration, computed from credentials alone (reachability is `doctor`'s job)."""
        return {status.name: status for status in (
            self._market_data(), self._broker(), self._coach(), self._discord(), self._discord_webhook(),
            self._slack(),
        )}

    def _market_data(self) -> IntegrationStatus:
        if self.polygon.api_key is None:
            return IntegrationStatus("market_data", False, "POLYGON_API_KEY is not set",
                                     "set POLYGON_API_KEY to your Polygon (Massive) API key and restart")
        return IntegrationStatus("market_data", True, f"Polygon at {self.polygon.rest_url}", "")

    def _broker(self) -> IntegrationStatus:
        missing = [name for name, value in (("TRADIER_ACCESS_TOKEN", self.tradier.access_token),
                                            ("TRADIER_ACCOUNT_ID", self.tradier.account_id)) if not value]
        if missing:
            return IntegrationStatus("broker", False, f"{' and '.join(missing)} not set",
                                     "set TRADIER_ACCESS_TOKEN and TRADIER_ACCOUNT_ID (sandbox = paper account)")
        return IntegrationStatus("broker", True, f"Tradier at {self.tradier.host} ({self.tradier.trading_mode})", "")

    def _coach(self) -> IntegrationStatus:
        if self.llm.provider == "chatdata":
            missing = [name for name, value in (("LLM_API_KEY", self.llm.api_key),
                                                ("CHATDATA_CHATBOT_ID", self.chatdata.chatbot_id)) if not value]
            how = "set LLM_PROVIDER=chatdata, LLM_API_KEY and CHATDATA_CHATBOT_ID"
        else:
            missing = [name for name, value in (("LLM_BASE_URL", self.llm.base_url),
                                                ("LLM_API_KEY", self.llm.api_key),
                                                ("LLM_MODEL", self.llm.model)) if not value]
            how = "set LLM_BASE_URL, LLM_API_KEY and LLM_MODEL of any OpenAI-compatible endpoint"
        if missing:
            return IntegrationStatus("coach", False, f"{', '.join(missing)} not set", how)
        return IntegrationStatus("coach", True, f"LLM provider {self.llm.provider}", "")

    def _discord(self) -> IntegrationStatus:
        if self.discord.bot_token is None:
            return IntegrationStatus("discord", False, "DISCORD_BOT_TOKEN is not set",
                                     "set DISCORD_BOT_TOKEN (and DISCORD_GUILD_IDS, DISCORD_ALERT_CHANNEL_ID)")
        return IntegrationStatus("discord", True, "Discord bot configured", "")

    def _discord_webhook(self) -> IntegrationStatus:
        if self.discord.webhook_url is None:
            return IntegrationStatus("discord_webhook", False, "DISCORD_WEBHOOK_URL is not set",
                                     "set DISCORD_WEBHOOK_URL to a channel webhook for alert copies")
        return IntegrationStatus("discord_webhook", True, "alert copies to a Discord webhook", "")

    def _slack(self) -> IntegrationStatus:
        missing = [name for name, value in (("SLACK_BOT_TOKEN", self.slack.bot_token),
                                            ("SLACK_SIGNING_SECRET", self.slack.signing_secret)) if not value]
        if missing:
            return IntegrationStatus("slack", False, f"{' and '.join(missing)} not set",
                                     "set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (SLACK_APP_TOKEN for Socket Mode)")
        mode = "Socket Mode" if self.slack.app_token else "HTTP events at /slack/events"
        return IntegrationStatus("slack", True, f"Slack app ({mode})", "")
