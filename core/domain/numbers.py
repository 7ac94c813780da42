"""Exact numbers for people: the constants and formatters every summary, warning and chat reply uses.

Values are Decimals end to end; a number is shown exactly (no float round trip), rounded only where a rule says
so (`cents`). `fmt_num` is the one plain-notation shape (`190.50`, `0.0523`), `fmt_money` the dollar one.
"""

from __future__ import annotations

import functools
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

MAX_PLACES = 6
CENT = Decimal("0.01")
ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)  # a Decimal operand: an int one is converted on every operation


def fmt_num(value: Decimal) -> str:
    """Exact, at least two decimals, no exponent and no separators: `190.5` -> `190.50`, `0.0523` stays.

    A summary shows ~20 numbers, most already at two decimals, so that case returns `str()` as is: str is
    twice as fast as format() and only falls back to an exponent for odd scales. A `.` third from the end means
    exactly two decimals and no exponent (an exponent always ends the text: `E+5`).
    """
    text = str(value)
    try:
        if text[-3] == ".":  # an index: half the cost of a slice
            return text
    except IndexError:  # one or two characters: a whole number (an exponent form is longer)
        return text + ".00"
    if "E" in text:
        text = f"{value:f}"
    dot = text.find(".")
    if dot < 0:
        return text + ".00"
    places = len(text) - dot - 1
    if places == 2:
        return text
    if places > 2:
        text = text.rstrip("0")
        places = len(text) - dot - 1
    return text if places >= 2 else text + "00"[places:]


@functools.lru_cache(maxsize=64)
def fmt_setting(value: Decimal) -> str:
    """fmt_num for a trader's setting (default R:R, max position %): a handful of values that change rarely,
    so their text is kept instead of rebuilt per call (fmt_num's output depends only on the numeric value)."""
    return fmt_num(value)


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
    return value.quantize(CENT, ROUND_HALF_UP)  # positional: ~1k instructions cheaper than rounding=
