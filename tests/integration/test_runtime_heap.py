"""A started runtime keeps the start-up heap (imported code, its services) out of the cyclic collector's full passes,
which would otherwise walk it all and stall the event loop; at stop it hands the heap back."""

from __future__ import annotations

import gc
from collections.abc import Callable

from core.runtime import Runtime
from core.settings import Settings


async def test_the_start_up_heap_is_frozen_while_the_runtime_runs(make_settings: Callable[..., Settings]) -> None:
    assert gc.get_freeze_count() == 0
    async with Runtime(make_settings(), roles=frozenset({"api", "engine"})) as runtime:
        assert gc.get_freeze_count() > 100_000  # the imported modules alone hold about 230,000 objects
        assert not any(young is runtime for young in gc.get_objects())  # frozen: no collection walks it
    assert gc.get_freeze_count() == 0
