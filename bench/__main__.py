"""Run every benchmark (`make bench`), or the ones named: `python -m bench plan decode`.

Each benchmark runs in its own child process, so one bench's leftovers (threads, heap, GC state) never skew the
next one's latencies.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import pkgutil
import subprocess
import sys
import time

import bench
from core.logs import configure_logging

CHILD_FLAG = "--one"


def _selected(names: list[str]) -> list[str]:
    found = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))
    if not names:
        return found
    return [m for m in found if any(name in m for name in names)]


def _run_one(name: str) -> int:
    configure_logging("WARNING")  # a bench prints its figures; the product's info logs would drown them
    module = importlib.import_module(f"bench.{name}")
    print(f"\n=== {name}: {(module.__doc__ or '').strip().splitlines()[0]}", flush=True)
    started = time.perf_counter()
    try:
        result = module.main()
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
    except Exception as exc:  # one broken bench must not hide the others' figures
        print(f"!!! {name} crashed: {type(exc).__name__}: {exc}", flush=True)
        result = False
    if result is False:
        print(f"!!! {name}: goal missed or run failed", flush=True)
    print(f"--- {name} done in {time.perf_counter() - started:.1f}s", flush=True)
    return 1 if result is False else 0


def main() -> int:
    if sys.argv[1:2] == [CHILD_FLAG]:
        return _run_one(sys.argv[2])
    missed = [name for name in _selected(sys.argv[1:])
              if subprocess.run([sys.executable, "-m", "bench", CHILD_FLAG, name], check=False).returncode]
    print(f"\n{len(missed)} benchmark(s) missed a goal or failed: {', '.join(missed) or 'none'}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
