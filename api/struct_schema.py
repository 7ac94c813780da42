"""OpenAPI schemas generated from the msgspec types (Structs, dataclasses) a route encodes directly, so no
pydantic copy of their fields is kept: `struct_response(T)` is the route's `responses=`, and the components the
schemas refer to are added to the document by `add_struct_components` (api.docs)."""

from __future__ import annotations

from typing import Any

import msgspec

REF_TEMPLATE = "#/components/schemas/{name}"
_COMPONENTS: dict[str, Any] = {}


def struct_response(kind: Any, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route answering `kind` with `status`."""
    (schema,), components = msgspec.json.schema_components([kind], ref_template=REF_TEMPLATE)
    _COMPONENTS.update(components)
    return {status: {"description": "Successful Response", "content": {"application/json": {"schema": schema}}}}


def add_struct_components(spec: dict[str, Any]) -> None:
    """Put the components of every `struct_response` type into an OpenAPI document; a name the document already
    uses for another schema is refused (a pydantic model and a Struct of one name would shadow each other)."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    clash = sorted(name for name, schema in _COMPONENTS.items() if schemas.get(name, schema) != schema)
    if clash:
        raise ValueError(f"OpenAPI component names used twice: {', '.join(clash)}; rename one of the types")
    schemas.update(_COMPONENTS)
