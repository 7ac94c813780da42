"""Run an ASGI app under a real uvicorn on a free 127.0.0.1 port (for /ws and browser tests), or the
`tradeassist` command itself as a child process (for the multi-process tests)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO, Any

import uvicorn

TRADEASSIST = Path(sys.executable).parent / "tradeassist"
_INHERITED = ("PATH", "HOME", "LANG", "PYTHONPATH")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def serve(app: Any, **config: Any) -> AsyncIterator[str]:
    """Yields the base URL (`http://127.0.0.1:PORT`) once uvicorn accepts connections; stops it afterwards."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on",
                                           **config))
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    if not server.started:
        task.cancel()
        raise RuntimeError("uvicorn did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


def tradeassist(*args: str, env: dict[str, str], cwd: Path, log: IO[str] | None = None) -> subprocess.Popen[str]:
    """Start `tradeassist <args>` with only `env` (plus PATH, HOME, LANG, PYTHONPATH of this process), so nothing
    of the developer's environment or .env reaches it; its output goes to `log` (else a pipe)."""
    inherited = {key: value for key, value in os.environ.items() if key in _INHERITED}
    out: IO[str] | int = log if log is not None else subprocess.PIPE
    return subprocess.Popen([str(TRADEASSIST), *args], cwd=cwd, env={**inherited, **env}, stdout=out,
                            stderr=subprocess.STDOUT if log is not None else subprocess.PIPE, text=True)
