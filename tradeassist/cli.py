"""`tradeassist run|api|engine|discord|slack|db upgrade|doctor|sync-commands`."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Annotated

import typer
import uvicorn
from pydantic import ValidationError

from api.app import create_app
from api.auth import API_ACTOR, resolve_api_key
from api.ws_wire import UVICORN_WS
from core.db.migrate import upgrade_to_head
from core.db.session import Database
from core.logs import configure_logging
from core.runtime import ALL_ROLES, Role, Runtime
from core.settings import Settings
from tradeassist.doctor import run_doctor

app = typer.Typer(help="Trading Assistant: chat-first command center for day traders.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(db_app, name="db")


def load_settings() -> Settings:
    try:
        settings = Settings()
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            typer.secho(f"configuration error: {error['msg']}", fg="red", err=True)
        raise typer.Exit(2) from exc
    configure_logging(settings.log_level, secrets=_secrets(settings))
    return settings


def _secrets(settings: Settings) -> list[str]:
    values = [settings.api_key, settings.polygon.api_key, settings.tradier.access_token, settings.llm.api_key,
              settings.discord.bot_token, settings.discord.webhook_url, settings.slack.bot_token,
              settings.slack.signing_secret, settings.slack.app_token]
    return [value.get_secret_value() for value in values if value is not None]


def _announce(settings: Settings) -> None:
    key, generated = resolve_api_key(settings)
    url = f"http://{settings.api_host}:{settings.api_port}"
    if generated:
        typer.echo(f"\n  Dashboard: {url}/#key={key}\n  A new API key was generated and saved to "
                   f"{settings.var_dir}/api_key (mode 0600); it is printed only this once.\n")
    else:
        typer.echo(f"\n  Dashboard: {url}  (API key: {settings.var_dir}/api_key or API_KEY)\n")
    for status in settings.integrations().values():
        state = "enabled " if status.enabled else "disabled"
        typer.echo(f"  {status.name:<16} {state}  {status.reason}")
    if API_ACTOR not in settings.traders:
        typer.echo(f"\n  TRADERS does not list `{API_ACTOR}`: the dashboard and REST show market data and the "
                   f"calculators only.\n  Set TRADERS={API_ACTOR} (plus your Discord/Slack ids) to read the account "
                   "and act from them.")
    typer.echo("")


async def _start_discord(runtime: Runtime, settings: Settings) -> None:
    """Run the Discord bot as a runtime task when DISCORD_BOT_TOKEN is set. A process without the engine role
    starts the delivery engine itself, so the bot's `discord` alert channel drains its outbox."""
    token = settings.discord.bot_token
    if token is None:
        return
    from bots.discord import build_discord_bot, run_bot  # discord.py is imported only where the bot runs

    runtime.spawn(run_bot(lambda: build_discord_bot(runtime, settings), token.get_secret_value()), name="discord")
    if "engine" not in runtime.roles:
        await runtime.delivery.start(lambda coro, name: runtime.spawn(coro, name=name))


async def _serve(settings: Settings, roles: frozenset[Role]) -> None:
    async with Runtime(settings, roles=roles) as runtime:
        if "discord" in roles:
            await _start_discord(runtime, settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if roles & {"api", "slack"}:  # Slack's HTTP mode is POST /slack/events on the API server
            _announce(settings)
            server = uvicorn.Server(uvicorn.Config(
                create_app(settings, runtime=runtime), host=settings.api_host, port=settings.api_port,
                log_config=None, lifespan="on", ws_max_size=64 * 1024, ws_per_message_deflate=False,
                ws=UVICORN_WS,  # /ws writes its frames straight to these connections when it can (api/ws_wire.py)
                ws_ping_interval=10, ws_ping_timeout=10))
            serving = runtime.spawn(server.serve(), name="uvicorn")
            await asyncio.wait({serving, asyncio.ensure_future(stop.wait())}, return_when=asyncio.FIRST_COMPLETED)
            server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(serving, timeout=1.0)
        else:
            await stop.wait()


def _run_roles(roles: frozenset[Role]) -> None:
    settings = load_settings()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(settings, roles))


@app.command()
def run() -> None:
    """Start everything in one process: API + dashboard, engines, and the bots whose credentials are set."""
    _run_roles(ALL_ROLES)


@app.command()
def api() -> None:
    """Start only the API and dashboard."""
    _run_roles(frozenset({"api"}))


@app.command()
def engine() -> None:
    """Start only the engines (feed, alerts, risk, order tracker, delivery)."""
    _run_roles(frozenset({"engine"}))


@app.command()
def discord() -> None:
    """Start only the Discord bot."""
    _require_discord(load_settings())
    _run_roles(frozenset({"discord"}))


@app.command()
def slack() -> None:
    """Start only the Slack app: Socket Mode when SLACK_APP_TOKEN is set, otherwise HTTP mode (Slack posts to
    /slack/events on API_HOST:API_PORT)."""
    _run_roles(frozenset({"slack"}))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending database migration."""
    settings = load_settings()

    async def _upgrade() -> None:
        db = Database(settings.database_url)
        try:
            await upgrade_to_head(db)
        finally:
            await db.close()

    asyncio.run(_upgrade())
    typer.echo("database is at the latest migration")


@app.command()
def doctor(timeout: Annotated[float, typer.Option(help="seconds per reachability check")] = 5.0) -> None:
    """Check each integration's credentials and reachability; print what is enabled and why not."""
    settings = load_settings()
    ok = asyncio.run(run_doctor(settings, timeout=timeout))
    raise typer.Exit(0 if ok else 1)


@app.command("sync-commands")
def sync_commands() -> None:
    """Sync the Discord slash commands to DISCORD_GUILD_IDS (never done on every start)."""
    settings = load_settings()
    token = _require_discord(settings)
    if not settings.discord.guild_ids:
        typer.secho("DISCORD_GUILD_IDS is not set: name the server(s) to sync the commands to.", fg="yellow")
        raise typer.Exit(1)
    synced = asyncio.run(_sync_commands(settings, token))
    for guild_id, names in synced.items():
        typer.echo(f"  guild {guild_id}: {len(names)} commands ({', '.join(names)})")


def _require_discord(settings: Settings) -> str:
    status = settings.integrations()["discord"]
    if not status.enabled or settings.discord.bot_token is None:
        typer.secho(f"Discord is disabled: {status.reason}. To enable: {status.how_to_enable}", fg="yellow")
        raise typer.Exit(1)
    return settings.discord.bot_token.get_secret_value()


async def _sync_commands(settings: Settings, token: str) -> dict[int, list[str]]:
    import discord as discord_py  # discord.py only where needed

    from bots.discord import build_discord_bot, sync_commands

    async with Runtime(settings, roles=frozenset({"discord"}), migrate=False) as runtime:
        bot = build_discord_bot(runtime, settings)
        try:
            await bot.login(token)
            return await sync_commands(bot, settings.discord.guild_ids)
        except (discord_py.LoginFailure, discord_py.HTTPException) as exc:  # bad token, bot not in that guild
            typer.secho(f"Discord refused the sync: {exc}", fg="red", err=True)
            raise typer.Exit(1) from exc
        finally:
            await bot.close()
