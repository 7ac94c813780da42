"""The committed uv.lock is what pyproject.toml asks for, and `make test` refuses to run on one that is not."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UV = ROOT / ".venv-tools" / "bin" / "uv"


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """pyproject.toml, uv.lock, the Makefile and uv's pin, with their times kept (so make sees uv as current)."""
    if not UV.exists():
        pytest.fail(f"{UV} is missing: run the suite through `make test`, which installs it")
    for name in ("pyproject.toml", "uv.lock", "Makefile", "requirements/uv.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    return tmp_path


def lock_check(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "--no-print-directory", "lock-check", f"UV={UV}"], cwd=project,
                          capture_output=True, text=True, timeout=120)


def test_the_committed_lock_matches_pyproject(project_copy: Path) -> None:
    done = lock_check(project_copy)
    assert done.returncode == 0, done.stderr


def test_a_pyproject_that_left_the_lock_stops_make_test_with_the_fix(project_copy: Path) -> None:
    pyproject = project_copy / "pyproject.toml"
    text = pyproject.read_text()
    assert '    "pyyaml>=6,<7",\n' in text
    pyproject.write_text(text.replace('    "pyyaml>=6,<7",\n', ""))
    done = lock_check(project_copy)
    assert done.returncode != 0
    assert "pyproject.toml and uv.lock disagree: run 'make lock' and commit uv.lock" in done.stderr


def test_make_test_checks_the_lock_before_installing() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "install-dev: lock-check" in makefile
    assert "test: install-dev" in makefile
    assert "sync --locked --no-dev" in makefile.split("\ninstall:", 1)[1].split("\n\n", 1)[0]
