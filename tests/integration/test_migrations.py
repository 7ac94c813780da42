"""Alembic migrations reach head on an empty SQLite and an empty PostgreSQL; readiness reports the gap."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from api.app import create_app
from core.db.migrate import alembic_config, current_revision, head_revision, upgrade_to_head
from core.db.models import Base
from core.db.session import Database
from core.runtime import Runtime
from core.settings import Settings
from tests.conftest import API_KEY

TABLES = {"app_settings", "journal_entries", "alerts", "alert_triggers", "alert_deliveries", "order_intents",
          "orders", "coach_conversations", "coach_messages", "news_items", "news_symbols",
          "picks", "news_sources"}


async def downgrade_to(db: Database, revision: str) -> None:
    from alembic import command

    config = alembic_config(db.url)

    def _downgrade(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(_downgrade)


async def test_upgrade_creates_every_table_and_is_idempotent(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    try:
        assert await current_revision(db) is None
        await upgrade_to_head(db)
        await upgrade_to_head(db)
        assert await current_revision(db) == head_revision(empty_database_url)
        async with db.engine.connect() as conn:
            tables = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
        assert tables >= TABLES
        assert set(Base.metadata.tables) == TABLES
    finally:
        await db.close()


async def test_the_news_delivery_migration_downgrades_and_upgrades_again(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    try:
        await upgrade_to_head(db)
        await downgrade_to(db, "0005")
        async with db.engine.connect() as conn:
            tables = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
            columns = await conn.run_sync(lambda sync: inspect(sync).get_columns("alert_deliveries"))
        assert "news_sources" not in tables
        assert {c["name"]: c["nullable"] for c in columns}.get("trigger_id") is False
        assert "news_id" not in {c["name"] for c in columns}
        await upgrade_to_head(db)
        assert await current_revision(db) == head_revision(empty_database_url)
    finally:
        await db.close()


async def test_migrated_schema_matches_the_models(empty_database_url: str) -> None:
    """Autogenerate against the migrated DB finds nothing to do: models and migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    db = Database(empty_database_url)
    try:
        await upgrade_to_head(db)
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata))
        assert diff == []
    finally:
        await db.close()


async def test_ready_is_503_with_the_reason_until_migrated(make_settings: Callable[..., Settings],
                                                          tmp_path: Path) -> None:
    settings = make_settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/behind.db")
    runtime = Runtime(settings, roles={"api"}, migrate=False)  # an API process started before `db upgrade`
    app = create_app(settings, runtime=runtime)
    async with runtime, app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                     headers={"X-API-Key": API_KEY}) as c:
            response = await c.get("/api/v1/diag/ready")
            assert response.status_code == 503
            assert "tradeassist db upgrade" in response.json()["reasons"][0]
            await upgrade_to_head(runtime.db)
            ready = await c.get("/api/v1/diag/ready")
            assert ready.status_code == 200, ready.text
            assert ready.json()["ready"] is True
