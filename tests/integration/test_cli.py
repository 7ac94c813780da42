"""The `tradeassist` command as a user runs it: start, first-run key, Ctrl-C, doctor, db upgrade."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.serve import free_port

BIN = Path(sys.executable).parent / "tradeassist"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH")}
    return {**keep, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db", "VAR_DIR": str(tmp_path / "var"),
            "RISK_EVAL_SEC": "0.5", "TRADERS": "api", **extra}  # the key holder may read the journal


# Bounds that only stop a hung process from hanging the suite; how fast start-up is belongs to a benchmark.
READY_WITHIN_SEC = 90
EXIT_WITHIN_SEC = 30


def _start(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    process = subprocess.Popen([str(BIN), "run"], cwd=tmp_path, env=_env(tmp_path, API_PORT=str(port)),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started = time.monotonic()
    key_file = tmp_path / "var" / "api_key"
    while time.monotonic() - started < READY_WITHIN_SEC:
        try:
            headers = {"X-API-Key": key_file.read_text().strip()} if key_file.exists() else {}
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/diag/ready", headers=headers, timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        assert process.poll() is None, process.communicate()
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"not ready within {READY_WITHIN_SEC} s: {process.communicate()}")


def _interrupt(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=EXIT_WITHIN_SEC)
    return out, err


def test_run_prints_key_once_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    process = _start(tmp_path, port)
    page = httpx.get(f"http://127.0.0.1:{port}/")
    assert page.status_code == 200
    assert "<html" in page.text.lower()
    out, err = _interrupt(process)
    assert process.returncode == 0, err
    assert "Task was destroyed" not in err
    assert "Traceback" not in err
    key_file = tmp_path / "var" / "api_key"
    key = key_file.read_text().strip()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert f"http://127.0.0.1:{port}/#key={key}" in out
    assert "market_data" in out
    assert "POLYGON_API_KEY is not set" in out

    process = _start(tmp_path, port)
    headers = {"X-API-Key": key}
    assert httpx.get(f"http://127.0.0.1:{port}/api/v1/journal", headers=headers).status_code == 200
    out, _ = _interrupt(process)
    assert key not in out, "the key is printed only when it is generated"
    assert key not in err


def test_doctor_reports_each_integration_and_db_state(tmp_path: Path) -> None:
    env = _env(tmp_path)
    behind = subprocess.run([str(BIN), "doctor"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert behind.returncode == 1
    assert "tradeassist db upgrade" in behind.stdout
    upgrade = subprocess.run([str(BIN), "db", "upgrade"], cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=60)
    assert upgrade.returncode == 0, upgrade.stderr
    healthy = subprocess.run([str(BIN), "doctor"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert healthy.returncode == 0, healthy.stdout
    for name in ("market_data", "broker", "coach", "discord", "discord_webhook", "slack"):
        assert name in healthy.stdout
    assert "to enable: set TRADIER_ACCESS_TOKEN" in healthy.stdout


def test_configuration_errors_are_reported_without_a_traceback(tmp_path: Path) -> None:
    env = _env(tmp_path, TRADIER_ENV="production")
    result = subprocess.run([str(BIN), "doctor"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "ALLOW_LIVE_TRADING=true" in result.stderr
    assert "Traceback" not in result.stderr


def test_start_up_says_when_the_api_key_holder_may_not_act(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from core.settings import Settings
    from tradeassist.cli import _announce

    common = {"_env_file": None, "var_dir": str(tmp_path / "var")}
    _announce(Settings(**common, traders=[]))  # type: ignore[arg-type]
    assert "TRADERS does not list `api`" in capsys.readouterr().out
    _announce(Settings(**common, traders=["api"]))  # type: ignore[arg-type]
    assert "TRADERS does not list" not in capsys.readouterr().out
