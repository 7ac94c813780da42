"""Exact numbers for people: the constants and formatters every summary, warning and chat reply uses.

Values are Decimals end to end; a number is shown exactly (no float round trip), rounded only where a rule says
so (`cents`). `fmt_num` is the one plain-notation shape (`190.50`, `0.0523`), `fmt_money` the dollar one.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

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


def fmt_signed_money(value: Decimal) -> str:
    """`fmt_money` with the sign always shown, for a gain or loss: `+$1,234.50`, `-$0.50`, `$0.00`."""
    return f"+{fmt_money(value)}" if value > ZERO else fmt_money(value)


def pnl_text(value: Decimal | None) -> str:
    """A gain or loss shown to a trader (`+$80.00`, `-$12.50`); "n/a" when it is not known."""
    return "n/a" if value is None else fmt_signed_money(value)


def money_text(value: object) -> str:
    """`fmt_money` for a value from a JSON payload (number, numeric string or None) shown to a trader: "n/a" when
    there is none, the text itself when it is not a number."""
    if value is None or value == "":
        return "n/a"
    try:
        return fmt_money(Decimal(str(value)))
    except ArithmeticError:
        return str(value)


def decimal_or_none(value: object) -> Decimal | None:
    """A number from a stored JSON document (numeric string, number, Decimal or None); None when it is not a
    finite number."""
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(value if isinstance(value, str | int) else str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
