"""OpenAPI schemas generated from msgspec types: a route's response refers to components the document then has,
and a component name used for two different schemas is refused."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from api import struct_schema
from api.struct_schema import add_struct_components, struct_response
from core.domain.options_types import OptionChain


class Shadow(msgspec.Struct):
    value: int


def test_a_response_refers_to_components_the_document_gets() -> None:
    responses = struct_response(OptionChain, 201)
    assert responses[201]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/OptionChain"}
    spec: dict[str, Any] = {}
    add_struct_components(spec)
    chain = spec["components"]["schemas"]["OptionChain"]
    assert chain["properties"]["contracts"]["items"] == {"$ref": "#/components/schemas/OptionRow"}
    assert {"symbol", "expiration", "as_of", "contracts"} <= set(chain["required"])
    assert "OptionRow" in spec["components"]["schemas"]


def test_a_component_name_taken_by_another_schema_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(struct_schema, "_COMPONENTS", {})  # the app's documents never see Shadow
    struct_response(Shadow)
    spec = {"components": {"schemas": {"Shadow": {"type": "object", "properties": {"other": {"type": "string"}}}}}}
    with pytest.raises(ValueError, match="Shadow"):
        add_struct_components(spec)


@dataclass(frozen=True)
class Shared:
    amount: Decimal


class Carrier(msgspec.Struct):
    shared: Shared


def test_a_dataclass_fastapi_documented_keeps_its_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(struct_schema, "_COMPONENTS", {})
    monkeypatch.setattr(struct_schema, "_DATACLASSES", {})
    struct_response(Carrier)
    fastapi_schema = {"type": "object", "properties": {"amount": {"type": "string", "title": "Amount"}}}
    spec = {"components": {"schemas": {"Shared": fastapi_schema}}}
    add_struct_components(spec)
    assert spec["components"]["schemas"]["Shared"] == fastapi_schema
    assert "Carrier" in spec["components"]["schemas"]


def test_two_dataclasses_of_one_name_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(struct_schema, "_COMPONENTS", {})
    monkeypatch.setattr(struct_schema, "_DATACLASSES", {"Shared": Shadow})
    with pytest.raises(ValueError, match="two types named Shared"):
        struct_response(Carrier)
