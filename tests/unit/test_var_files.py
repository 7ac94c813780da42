"""A VAR_DIR file created by processes that start together: every one reads the same complete text, exactly one
wrote it, and no draft is left behind."""

from __future__ import annotations

import multiprocessing
import secrets
import stat
from pathlib import Path
from typing import Any

from core.var_files import read_or_create


def _race(path: str, start: Any) -> tuple[str, bool]:  # start: a Manager's Barrier proxy
    start.wait()
    return read_or_create(Path(path), lambda: secrets.token_hex(32))


def test_processes_starting_together_share_one_complete_file(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret"
    context = multiprocessing.get_context("spawn")
    start = context.Manager().Barrier(6)
    with context.Pool(6) as pool:
        results = pool.starmap(_race, [(str(path), start)] * 6)
    assert len({text for text, _ in results}) == 1 and len(results[0][0]) == 64  # never empty, never half
    assert [created for _, created in results].count(True) == 1
    assert path.read_text().strip() == results[0][0]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["secret"]


def test_an_existing_file_is_read_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text("kept\n")
    assert read_or_create(path, lambda: "new") == ("kept", False)
