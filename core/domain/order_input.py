"""Untrusted order input (a REST body, a bot option, a coach tool argument) -> a validated `OrderRequest`.

Field names follow the REST order shape (`class`, `option_symbol`, `legs`). Every problem is an
`Invalid` naming the field and what would be valid, never a 500; the broker's own rules then run through
`validate_order_request`.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.domain.orders import (
    MAX_PRICE,
    OrderClass,
    OrderDuration,
    OrderLeg,
    OrderRequest,
    OrderSide,
    OrderType,
    validate_order_request,
)
from core.domain.symbols import normalize_symbol
from core.errors import Invalid

MAX_QUANTITY = Decimal(1_000_000)


def _finite(value: Decimal | None, name: str) -> Decimal | None:
    if value is None:
        return None
    if not value.is_finite() or math.isinf(float(value)):
        raise ValueError(f"{name} must be a finite number")
    if value > MAX_PRICE:
        raise ValueError(f"{name} must be at most {MAX_PRICE}")
    return value


def _symbol(value: str, name: str) -> str:
    if any(ch.isspace() for ch in value):
        raise ValueError(f"{name} must not contain spaces, e.g. SPY")
    try:
        return normalize_symbol(value)
    except Invalid as exc:
        raise ValueError(exc.message) from exc


class LegInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    option_symbol: str = Field(min_length=1, max_length=32)
    side: OrderSide
    quantity: int = Field(gt=0, le=10_000)

    @field_validator("option_symbol")
    @classmethod
    def _occ(cls, value: str) -> str:
        return _symbol(value, "option_symbol")


class OrderInput(BaseModel):
    """The order body: `symbol`, `side`, `quantity`, `type`, `price?`, `stop?`, `duration`, `class?`, ..."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    symbol: str = Field(min_length=1, max_length=32)
    side: OrderSide
    quantity: Decimal = Field(gt=0, le=MAX_QUANTITY)
    type: OrderType
    duration: OrderDuration = OrderDuration.DAY
    order_class: OrderClass = Field(default=OrderClass.EQUITY, alias="class")
    price: Decimal | None = Field(default=None, gt=0)
    stop: Decimal | None = Field(default=None, gt=0)
    option_symbol: str | None = Field(default=None, max_length=32)
    legs: list[LegInput] = Field(default_factory=list, max_length=4)
    take_profit: Decimal | None = Field(default=None, gt=0)
    stop_loss: Decimal | None = Field(default=None, gt=0)

    @field_validator("symbol")
    @classmethod
    def _clean_symbol(cls, value: str) -> str:
        return _symbol(value, "symbol")

    @field_validator("option_symbol")
    @classmethod
    def _clean_option(cls, value: str | None) -> str | None:
        return None if value is None else _symbol(value, "option_symbol")

    @field_validator("quantity")
    @classmethod
    def _whole(cls, value: Decimal) -> Decimal:
        _finite(value, "quantity")
        if value != value.to_integral_value():
            raise ValueError(f"quantity must be a whole number of shares or contracts, got {value}")
        return value

    @field_validator("price", "stop", "take_profit", "stop_loss")
    @classmethod
    def _prices(cls, value: Decimal | None) -> Decimal | None:
        return _finite(value, "price")

    def to_request(self) -> OrderRequest:
        order = OrderRequest(
            symbol=self.symbol, side=self.side, quantity=self.quantity, type=self.type, duration=self.duration,
            order_class=self.order_class, price=self.price, stop=self.stop, option_symbol=self.option_symbol,
            legs=tuple(OrderLeg(leg.option_symbol, leg.side, leg.quantity) for leg in self.legs),
            take_profit=self.take_profit, stop_loss=self.stop_loss,
        )
        validate_order_request(order)
        return order


class ReplaceInput(BaseModel):
    """What a replace (Tradier modify) may change on a working order; at least one field."""

    model_config = ConfigDict(extra="forbid")

    type: OrderType | None = None
    duration: OrderDuration | None = None
    price: Decimal | None = Field(default=None, gt=0)
    stop: Decimal | None = Field(default=None, gt=0)

    @field_validator("price", "stop")
    @classmethod
    def _prices(cls, value: Decimal | None) -> Decimal | None:
        return _finite(value, "price")

    def changes(self) -> dict[str, Any]:
        found = self.model_dump(exclude_none=True, mode="json")
        if not found:
            raise Invalid("send at least one of type, duration, price, stop to replace an order",
                          details=[{"field": "body", "message": "nothing to change"}])
        return found


def _invalid(exc: ValidationError, what: str) -> Invalid:
    errors = []
    for error in exc.errors(include_url=False, include_input=False):
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field; remove it"
        elif error["type"] == "enum":
            message = f"must be one of {error.get('ctx', {}).get('expected', '')}".rstrip()
        errors.append({"field": ".".join(str(p) for p in error["loc"]) or "body", "message": message})
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return Invalid(f"invalid {what}: {summary}", details=errors)


def parse_order(data: Any) -> OrderRequest:
    """A validated OrderRequest from JSON-like `data` (raises Invalid with every field that is wrong)."""
    try:
        order_input = OrderInput.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc, "order") from exc
    try:
        return order_input.to_request()
    except Invalid as exc:
        field = exc.details.get("field", "body") if isinstance(exc.details, dict) else "body"
        raise Invalid(f"invalid order: {exc.message}",
                      details=[{"field": field, "message": exc.message}]) from exc


def parse_replace(data: Any) -> dict[str, Any]:
    try:
        return ReplaceInput.model_validate(data).changes()
    except ValidationError as exc:
        raise _invalid(exc, "replace") from exc
