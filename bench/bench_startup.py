"""`tradeassist run` start-up and Ctrl-C: ready < 10 s on the embedded defaults, clean exit < 2 s (5 runs, median)."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.serve import free_port

GOAL_READY_SEC = 10.0
GOAL_EXIT_SEC = 2.0
RUNS = 5
BIN = Path(sys.executable).parent / "tradeassist"


def _one_run(folder: Path) -> tuple[float, float]:
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")},
           "VAR_DIR": str(folder / "var"), "API_PORT": str(port), "LOG_LEVEL": "WARNING"}
    started = time.monotonic()
    process = subprocess.Popen([str(BIN), "run"], cwd=folder, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"tradeassist run exited with {process.returncode} before it was ready")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/diag/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() - started > 120:
                raise RuntimeError("not ready within 120 s")
            time.sleep(0.05)
        ready = time.monotonic() - started
        interrupted = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        return ready, time.monotonic() - interrupted
    finally:
        if process.poll() is None:
            process.kill()


def main() -> bool:
    ready, exits = [], []
    for run in range(RUNS):
        with tempfile.TemporaryDirectory() as folder:
            took_ready, took_exit = _one_run(Path(folder))
        ready.append(took_ready)
        exits.append(took_exit)
        print(f"run {run + 1}: ready {took_ready:.2f} s (fresh var/: generates the key, migrates), "
              f"exit {took_exit:.2f} s")
    ready_median, exit_median = statistics.median(ready), statistics.median(exits)
    print(f"ready: median {ready_median:.2f} s, {ready_median / GOAL_READY_SEC:.2f}x the {GOAL_READY_SEC:.0f} s goal")
    print(f"exit on Ctrl-C: median {exit_median:.2f} s, "
          f"{exit_median / GOAL_EXIT_SEC:.2f}x the {GOAL_EXIT_SEC:.0f} s goal")
    return ready_median < GOAL_READY_SEC and exit_median < GOAL_EXIT_SEC
