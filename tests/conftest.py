"""Shared fixtures: a database per test on SQLite and on the local PostgreSQL, settings, the API app."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from core.db.migrate import upgrade_to_head
from core.db.models import Base
from core.db.session import Database
from core.runtime import Runtime
from core.settings import Settings

PG_SERVER = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
API_KEY = "test-api-key-0123456789-abcdefghijklmnop"


async def _pg_admin(statement: str) -> None:
    try:
        conn = await asyncpg.connect(PG_SERVER, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL at {PG_SERVER} is not reachable ({exc}); the suite needs it (see .ci/run)")
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def _server_url(name: str) -> str:
    host = PG_SERVER.split("://", 1)[1].rsplit("/", 1)[0]
    return f"postgresql+asyncpg://{host}/{name}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test (for migration tests), dropped afterwards."""
    name = f"ta_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    yield _server_url(name)
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def shared_postgres_url() -> Iterator[str]:
    """One migrated PostgreSQL database for the whole run; each test starts from empty tables."""
    name = f"ta_suite_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    url = _server_url(name)

    async def _migrate() -> None:
        db = Database(url)
        try:
            await upgrade_to_head(db)
        finally:
            await db.close()

    asyncio.run(_migrate())
    yield url
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate_all(url: str) -> None:
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    conn = await asyncpg.connect(url.replace("+asyncpg", ""), timeout=5)
    try:
        await conn.execute(f"TRUNCATE {tables} CASCADE")
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each DB-touching test runs twice: on SQLite (the default) and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/tradeassist.db"
    url: str = request.getfixturevalue("shared_postgres_url")
    asyncio.run(_truncate_all(url))
    return url


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def _make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": f"sqlite+aiosqlite:///{tmp_path}/tradeassist.db",
            "var_dir": str(tmp_path / "var"),
            "api_key": API_KEY,
            "traders": ["api"],  # the key holder may act; tests of a non-trader pass traders=[]
            "allowed_hosts": ["testserver"],  # httpx's in-process clients send Host: testserver
            "risk_eval_sec": 0.2,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return _make


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database_url=database_url)


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    async with Runtime(settings, roles={"api", "engine"}) as rt:
        yield rt


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A migrated Database on the parametrized URL (SQLite and PostgreSQL)."""
    database = Database(database_url)
    await upgrade_to_head(database)
    yield database
    await database.close()


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """`app` started (lifespan) and an authenticated client talking to it in-process."""
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers={"X-API-Key": API_KEY},
            timeout=10) as http:
        yield http


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings, roles=frozenset({"api", "engine"}))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                 headers={"X-API-Key": API_KEY}) as http:
        yield http
