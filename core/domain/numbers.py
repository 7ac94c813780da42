"""Exact numbers for people: the constants and formatters every summary, warning and chat reply uses.

Values are Decimals end to end; a number is shown exactly (no float round trip), rounded only where a rule says
so (`cents`). `fmt_num` is the one plain-notation shape (`190.50`, `0.0523`), `fmt_money` the dollar one.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

MAX_PLACES = 6
CENT = Decimal("0.01")
ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)


def fmt_num(value: Decimal) -> str:
    """Exact, at least two decimals, no exponent and no separators: `190.5` -> `190.50`, `0.0523` stays."""
    text = str(value)
    if "E" in text:  # str() writes an exponent for very large or very small scales: spell those out
        text = f"{value:f}"
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.rstrip('0').ljust(2, '0')}"


def fmt_money(value: Decimal) -> str:
    """Dollars to the cent with thousands separators: `-1234.5` -> `-$1,234.50`."""
    if value > ZERO:
        return f"${value:,.2f}"
    return f"-${-value:,.2f}" if value < ZERO else "$0.00"  # -0 too


def money_text(value: object) -> str:
    """`fmt_money` for a value from a JSON payload (number, numeric string or None) shown to a trader: "n/a" when
    there is none, the text itself when it is not a number."""
    if value is None or value == "":
        return "n/a"
    try:
        return fmt_money(Decimal(str(value)))
    except ArithmeticError:
        return str(value)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
