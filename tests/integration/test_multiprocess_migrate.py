"""Several processes starting at once on a fresh database (docker-compose restarts, a scaled role): every one of
them runs `tradeassist db upgrade`; one migrates, the others wait for it, all succeed and the schema is at head."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from sqlalchemy import text

from core.db.migrate import current_revision, head_revision
from core.db.session import Database
from tests.serve import tradeassist

PROCESSES = 6


def _upgrade_all_at_once(url: str, tmp_path: Path) -> list[subprocess.CompletedProcess[str]]:
    env = {"DATABASE_URL": url, "VAR_DIR": str(tmp_path / "var"), "LOG_LEVEL": "WARNING"}
    processes = [tradeassist("db", "upgrade", env=env, cwd=tmp_path) for _ in range(PROCESSES)]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)  # six interpreters starting on a busy CI box
        results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return results


async def _schema(url: str) -> tuple[str | None, int]:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            versions = int((await conn.execute(text("SELECT count(*) FROM alembic_version"))).scalar_one())
        return await current_revision(db), versions
    finally:
        await db.close()


def test_processes_upgrading_a_fresh_database_at_once_all_succeed_and_migrate_once(empty_database_url: str,
                                                                                   tmp_path: Path) -> None:
    results = _upgrade_all_at_once(empty_database_url, tmp_path)
    failed = [f"exit {r.returncode}: {r.stderr[-2000:]}" for r in results if r.returncode != 0]
    assert not failed, "\n".join(failed)
    assert all("database is at the latest migration" in r.stdout for r in results), [r.stdout for r in results]
    revision, rows = asyncio.run(_schema(empty_database_url))
    assert (revision, rows) == (head_revision(empty_database_url), 1)
