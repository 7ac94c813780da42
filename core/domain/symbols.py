"""Symbol normalisation, shared by every input path (API, bots, coach tools)."""

from __future__ import annotations

import re

from core.errors import Invalid

_EQUITY = re.compile(r"^[A-Z][A-Z0-9]{0,9}(\.[A-Z]{1,2})?$")
_OPTION = re.compile(r"^(O:)?[A-Z]{1,6}\d{6}[CP]\d{8}$")


def normalize_symbol(raw: str) -> str:
    """`brk.b` -> `BRK.B`; option OCC symbols keep their shape; anything else is refused with the rule."""
    symbol = raw.strip().upper()
    if _EQUITY.match(symbol) or _OPTION.match(symbol):
        return symbol
    shown = symbol if len(symbol) <= 20 else symbol[:20] + "..."
    raise Invalid(
        f"'{shown}' is not a valid symbol: use 1-10 letters/digits starting with a letter, optionally a class "
        "suffix like BRK.B, or an OCC option symbol like AAPL240621C00190000",
        details={"field": "symbol"},
    )
