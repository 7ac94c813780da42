"""Turning a pydantic ValidationError into the product's `Invalid`, with each field and what would be valid."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from core.errors import Invalid

M = TypeVar("M", bound=BaseModel)


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    errors = []
    for error in exc.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in error["loc"]) or "body"
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown field; remove it"
        errors.append({"field": location, "message": message})
    return errors


def invalid_from(exc: ValidationError, what: str) -> Invalid:
    errors = field_errors(exc)
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return Invalid(f"invalid {what}: {summary}", details=errors)


def parse(model: type[M], data: Any, what: str) -> M:
    """Validate untrusted input (a request body, a bot option, an LLM tool argument) into `model`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_from(exc, what) from exc
