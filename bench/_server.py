"""Start the real app under uvicorn in a child process (so the bench's clients don't share its event loop)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

BENCH_KEY = "bench-api-key-0123456789-abcdefghijklmnop"
_CHILD = """
import resource, sys, uvicorn
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
from api.app import create_app
from core.logs import configure_logging
from core.settings import Settings
configure_logging("WARNING")
app = create_app(Settings(), roles=frozenset(sys.argv[3].split(",")))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None, access_log=False,
            ws_ping_interval=float(sys.argv[2]), ws_ping_timeout=float(sys.argv[2]), ws_per_message_deflate=False)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class AppProcess:
    base: str
    pid: int  # the uvicorn process itself (for its CPU time)


@contextmanager
def app_server(*, ping_sec: float = 10.0, roles: str = "api,engine", **env: str) -> Iterator[str]:
    """Yields the base URL of a freshly migrated app (SQLite in a temp dir) running in a child process with the
    runtime `roles` (comma-separated)."""
    with app_process(ping_sec=ping_sec, roles=roles, **env) as app:
        yield app.base


@contextmanager
def app_process(*, ping_sec: float = 10.0, roles: str = "api,engine", **env: str) -> Iterator[AppProcess]:
    """`app_server`, also giving the child's pid."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        child_env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.db", "VAR_DIR": tmp,
                     "API_KEY": BENCH_KEY, "TRADERS": "api", "LOG_LEVEL": "WARNING", **env}
        process = subprocess.Popen([sys.executable, "-c", _CHILD, str(port), str(ping_sec), roles], env=child_env)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    ready = httpx.get(f"{base}/api/v1/diag/ready", headers={"X-API-Key": BENCH_KEY}, timeout=2)
                    if ready.status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                raise RuntimeError("the app did not become ready within 30 s")
            yield AppProcess(base, process.pid)
        finally:
            process.terminate()
            process.wait(timeout=10)


@asynccontextmanager
async def app_process_async(**kwargs: Any) -> AsyncIterator[AppProcess]:
    """`app_process` for a bench whose doubles serve the child from this event loop: starting and stopping run
    in a thread, so the loop keeps answering the child meanwhile."""
    server = app_process(**kwargs)
    app = await asyncio.to_thread(server.__enter__)
    try:
        yield app
    finally:
        await asyncio.to_thread(server.__exit__, None, None, None)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]
