"""Alembic migrations reach head on an empty SQLite and an empty PostgreSQL; readiness reports the gap."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, inspect
from sqlalchemy.engine import Connection

from api.app import create_app
from core.db.migrate import alembic_config, current_revision, head_revision, upgrade_to_head
from core.db.models import AlertTrigger, Base
from core.db.repositories.alerts import AlertRepository
from core.db.session import Database
from core.runtime import Runtime
from core.settings import Settings
from tests.conftest import API_KEY

HISTORY_INDEX = "ix_alert_triggers_triggered_at_id"
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


async def test_the_trigger_history_index_downgrades_and_upgrades_again(empty_database_url: str) -> None:
    db = Database(empty_database_url)

    async def indexes() -> set[str]:
        async with db.engine.connect() as conn:
            found = await conn.run_sync(lambda sync: inspect(sync).get_indexes("alert_triggers"))
        return {index["name"] for index in found if index["name"]}

    try:
        await upgrade_to_head(db)
        assert HISTORY_INDEX in await indexes()
        await downgrade_to(db, "0006")
        assert HISTORY_INDEX not in await indexes()
        await upgrade_to_head(db)
        assert HISTORY_INDEX in await indexes()
    finally:
        await db.close()


async def test_the_history_page_reads_the_index_instead_of_sorting(tmp_path: Path) -> None:
    """SQLite's plan for the history query, first page and a later one: rows in index order, no sort step."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/plan.db")
    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if "FROM alert_triggers" in statement and "ORDER BY" in statement:
            statements.append((statement, parameters))

    try:
        await upgrade_to_head(db)
        event.listen(db.engine.sync_engine, "before_cursor_execute", record)
        async with db.read() as session:
            repo = AlertRepository(session)
            await repo.trigger_history(51)
            await repo.trigger_history(51, AlertTrigger(id="f" * 32, triggered_at=datetime.now(UTC)))
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
        assert len(statements) == 2
        async with db.engine.connect() as conn:
            for statement, parameters in statements:
                plan = " | ".join(str(row[-1]) for row in await conn.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {statement}", parameters))
                assert HISTORY_INDEX in plan and "TEMP B-TREE" not in plan, plan
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
