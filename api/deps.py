"""Request-scoped access to the runtime that the app's lifespan owns."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from core.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
