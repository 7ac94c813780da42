"""Vendor errors onto core.errors: one declarative table per adapter, applied by one function.

A table is read top to bottom and the first row whose key matches wins, the way httpx maps transport
exceptions onto its own classes: the mapping is data an adapter declares next to its vendor's facts, not a
chain of ``if status == ...`` branches. A key is an HTTP status, a range of them, or a status word the vendor
puts in its body; the types `int` and `str` match any status and any word. A row may list several keys, and a
table ends with a catch-all row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.errors import CoreError

SERVER_ERROR = range(500, 600)


@dataclass(frozen=True, slots=True)
class Fault:
    """One refused vendor request, as a table row sees it: who refused, what status, in the vendor's words."""

    vendor: str
    status: int | str
    where: str = ""
    reason: str = ""
    retry_after: float | None = None
    details: dict[str, Any] | None = None


Key = int | str | range | type[int] | type[str]
Row = tuple[Key | tuple[Key, ...], Callable[[Fault], CoreError]]
ErrorTable = tuple[Row, ...]


def _matches_one(key: Key, status: int | str) -> bool:
    if isinstance(key, range):
        return isinstance(status, int) and status in key
    if isinstance(key, type):
        return isinstance(status, key)
    return key == status


def matches(keys: Key | tuple[Key, ...], status: int | str) -> bool:
    """Whether a row's key (or one of its keys) covers `status`."""
    return any(_matches_one(key, status) for key in (keys if isinstance(keys, tuple) else (keys,)))


def core_error(table: ErrorTable, fault: Fault) -> CoreError:
    """The core error the first matching row of `table` builds for `fault`."""
    for keys, build in table:
        if matches(keys, fault.status):
            return build(fault)
    raise LookupError(f"the {fault.vendor} error table has no row for status {fault.status!r}")
