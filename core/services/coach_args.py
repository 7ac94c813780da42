"""The coach tools' argument models: every tool call from the model is untrusted input, validated like a request
body (unknown fields, wrong types, out-of-range numbers and symbols that are not symbols are refused)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.domain.symbols import normalize_symbol
from core.errors import Invalid

MAX_TEXT = 500
MAX_QUANTITY = 100_000
MAX_PRICE = Decimal(1_000_000)

class ToolArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


def _symbol(value: str) -> str:
    try:
        return normalize_symbol(value)
    except Invalid as exc:
        raise ValueError(exc.message) from exc


def _optional_symbol(value: str | None) -> str | None:
    return None if value is None else _symbol(value)


class _SymbolArgs(ToolArgs):
    symbol: str = Field(min_length=1, max_length=32)

    _check_symbol = field_validator("symbol")(_symbol)


class QuoteArgs(_SymbolArgs):
    pass


class BarsArgs(_SymbolArgs):
    timespan: Literal["minute", "hour", "day", "week"] = "day"
    limit: int = Field(default=20, ge=1, le=200)


class NewsArgs(ToolArgs):
    symbol: str | None = Field(default=None, max_length=32)
    limit: int = Field(default=5, ge=1, le=20)

    _check_symbol = field_validator("symbol")(_optional_symbol)


class NoArgs(ToolArgs):
    pass



class PlanArgs(ToolArgs):
    symbol: str | None = Field(default=None, max_length=32)
    side: Literal["long", "short"]
    entry: Decimal = Field(gt=0, le=MAX_PRICE)
    stop: Decimal = Field(gt=0, le=MAX_PRICE)
    targets: list[Decimal] = Field(default_factory=list, max_length=3)
    instrument: Literal["stock", "option"] = "stock"

    _check_symbol = field_validator("symbol")(_optional_symbol)


class SizeArgs(ToolArgs):
    symbol: str | None = Field(default=None, max_length=32)
    entry: Decimal = Field(gt=0, le=MAX_PRICE)
    stop: Decimal = Field(gt=0, le=MAX_PRICE)
    confidence: float | None = Field(default=None, ge=0, le=1)
    equity: Decimal | None = Field(default=None, gt=0, le=Decimal(10) ** 12)
    buying_power: Decimal | None = Field(default=None, ge=0, le=Decimal(10) ** 12)
    instrument: Literal["stock", "option"] = "stock"

    _check_symbol = field_validator("symbol")(_optional_symbol)


class AlertArgs(_SymbolArgs):
    condition: Literal["price_above", "price_below"]
    level: Decimal = Field(gt=0, le=MAX_PRICE)
    threshold_pct: Decimal | None = Field(default=None, gt=0, le=20)
    timeframe: Literal["tick", "minute", "day"] = "tick"
    repeat: Literal["once", "every"] = "once"
    note: str | None = Field(default=None, max_length=MAX_TEXT)


class OrderArgs(_SymbolArgs):
    side: Literal["buy", "sell", "sell_short", "buy_to_cover"]
    quantity: int = Field(ge=1, le=MAX_QUANTITY)
    type: Literal["market", "limit", "stop", "stop_limit"] = "limit"
    price: Decimal | None = Field(default=None, gt=0, le=MAX_PRICE)
    stop: Decimal | None = Field(default=None, gt=0, le=MAX_PRICE)
    duration: Literal["day", "gtc"] = "day"
    rationale: str = Field(min_length=1, max_length=MAX_TEXT)


class CancelArgs(ToolArgs):
    order_id: str = Field(pattern=r"^[A-Za-z0-9-]{1,64}$")
    rationale: str = Field(min_length=1, max_length=MAX_TEXT)


class JournalArgs(ToolArgs):
    body: str = Field(min_length=1, max_length=2000)
    symbol: str | None = Field(default=None, max_length=32)
    tags: list[str] = Field(default_factory=list, max_length=5)

    _check_symbol = field_validator("symbol")(_optional_symbol)


class PicksArgs(ToolArgs):
    limit: int = Field(default=5, ge=1, le=20)
