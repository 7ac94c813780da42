"""Request-scoped access to the runtime that the app's lifespan owns."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from core.runtime import Runtime


def runtime_of(request: Request) -> Runtime:
    """For the hot routes (journal, settings): taking `request: Request` and calling this skips a dependency,
    whose resolution by FastAPI costs more than the rest of a settings read."""
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_runtime(request: Request) -> Runtime:
    return runtime_of(request)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
