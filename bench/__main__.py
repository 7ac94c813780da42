"""Run every benchmark (`make bench`), or the ones named: `python -m bench plan decode`."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import pkgutil
import sys
import time

import bench


def _selected(names: list[str]) -> list[str]:
    found = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))
    if not names:
        return found
    return [m for m in found if any(name in m for name in names)]


def main() -> int:
    failures = 0
    for name in _selected(sys.argv[1:]):
        module = importlib.import_module(f"bench.{name}")
        print(f"\n=== {name}: {(module.__doc__ or '').strip().splitlines()[0]}", flush=True)
        started = time.perf_counter()
        result = module.main()
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
        if result is False:
            failures += 1
        print(f"--- {name} done in {time.perf_counter() - started:.1f}s", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
