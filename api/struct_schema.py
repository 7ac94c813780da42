"""OpenAPI schemas generated from the msgspec types (Structs, dataclasses) a route encodes directly, so no
pydantic copy of their fields is kept: `struct_response(T)` is the route's `responses=`, and the components the
schemas refer to are added to the document by `add_struct_components` (api.docs)."""

from __future__ import annotations

from typing import Any

import msgspec
import msgspec.inspect as mi

REF_TEMPLATE = "#/components/schemas/{name}"
_COMPONENTS: dict[str, Any] = {}
_DATACLASSES: dict[str, type] = {}


def _dataclasses(info: mi.Type, found: dict[str, type]) -> None:
    """Every stdlib dataclass (and enum) reachable from a type: FastAPI documents those too when a route declares
    one as its response model, under the same name."""
    if isinstance(info, mi.DataclassType | mi.EnumType) and info.cls.__name__ not in found:
        found[info.cls.__name__] = info.cls
    for name in ("fields", "types"):
        for child in getattr(info, name, ()):
            _dataclasses(getattr(child, "type", child), found)
    for name in ("item_type", "key_type", "value_type"):
        if (child := getattr(info, name, None)) is not None:
            _dataclasses(child, found)


def struct_response(kind: Any, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route answering `kind` with `status`."""
    (schema,), components = msgspec.json.schema_components([kind], ref_template=REF_TEMPLATE)
    found: dict[str, type] = {}
    _dataclasses(mi.type_info(kind), found)
    for name, cls in found.items():
        if _DATACLASSES.setdefault(name, cls) is not cls:
            raise ValueError(f"two dataclasses named {name} in the OpenAPI; rename one of them")
    _COMPONENTS.update(components)
    return {status: {"description": "Successful Response", "content": {"application/json": {"schema": schema}}}}


def add_struct_components(spec: dict[str, Any]) -> None:
    """Put the components of every `struct_response` type into an OpenAPI document. A dataclass that FastAPI
    documented already (as some route's response model) keeps FastAPI's schema: both describe the one Python type.
    Any other name the document already uses for another schema is refused (a pydantic model and a Struct of one
    name would shadow each other)."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    clash = sorted(name for name, schema in _COMPONENTS.items()
                   if schemas.get(name, schema) != schema and name not in _DATACLASSES)
    if clash:
        raise ValueError(f"OpenAPI component names used twice: {', '.join(clash)}; rename one of the types")
    schemas.update({name: schema for name, schema in _COMPONENTS.items()
                    if name not in schemas or name not in _DATACLASSES})
