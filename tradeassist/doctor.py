"""`tradeassist doctor`: credentials, database and bus reachability, each with what to do about it."""

from __future__ import annotations

import asyncio

import typer

from core.bus import create_bus
from core.db.migrate import current_revision, head_revision
from core.db.session import Database
from core.settings import Settings


async def _check_database(settings: Settings) -> tuple[bool, str]:
    db = Database(settings.database_url)
    try:
        current = await current_revision(db)
    except Exception as exc:  # report any driver failure as text
        return False, f"unreachable ({type(exc).__name__}: {exc})"
    finally:
        await db.close()
    head = head_revision(settings.database_url)
    if current != head:
        return False, f"at migration {current or 'none'}, head is {head}: run `tradeassist db upgrade`"
    return True, f"at migration head {head}"


async def _check_bus(settings: Settings) -> tuple[bool, str]:
    bus = create_bus(settings.event_bus_url)
    try:
        await bus.start()
    except Exception as exc:  # report any connection failure as text
        return False, f"unreachable ({type(exc).__name__})"
    finally:
        await bus.close()
    return True, settings.event_bus_url.split("@")[-1]


async def run_doctor(settings: Settings, *, timeout: float) -> bool:
    healthy = True
    for name, check in (("database", _check_database), ("event bus", _check_bus)):
        try:
            ok, detail = await asyncio.wait_for(check(settings), timeout)
        except TimeoutError:
            ok, detail = False, f"no answer within {timeout:g} s"
        healthy &= ok
        typer.secho(f"{name:<16} {'ok' if ok else 'FAIL':<8} {detail}", fg="green" if ok else "red")
    for status in settings.integrations().values():
        if status.enabled:
            typer.secho(f"{status.name:<16} {'enabled':<8} {status.reason}", fg="green")
        else:
            typer.secho(f"{status.name:<16} {'disabled':<8} {status.reason}; to enable: {status.how_to_enable}",
                        fg="yellow")
    return healthy
