"""normalize_symbol: the no-regex path for symbols already in shape agrees with the rule-by-rule one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.symbols import _EQUITY, _OPTION, normalize_symbol
from core.errors import Invalid


def _by_the_rules(raw: str) -> str | None:
    """The module's own rules, applied without the fast path."""
    symbol = raw.strip().upper()
    return symbol if _EQUITY.match(symbol) or _OPTION.match(symbol) else None


@given(st.text(alphabet=st.sampled_from("AZaz09. :ÉéßΣ\t"), max_size=13))
def test_every_text_gets_the_rules_answer(raw: str) -> None:
    expected = _by_the_rules(raw)
    if expected is None:
        with pytest.raises(Invalid):
            normalize_symbol(raw)
    else:
        assert normalize_symbol(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [("AAPL", "AAPL"), ("ABCDEFGHIJ", "ABCDEFGHIJ"), (" aapl ", "AAPL"),
                                               ("brk.b", "BRK.B"), ("O:SPY240621C00500000", "O:SPY240621C00500000")])
def test_symbols_in_and_out_of_shape(raw: str, expected: str) -> None:
    assert normalize_symbol(raw) == expected


@pytest.mark.parametrize("raw", ["ABCDEFGHIJK", "ÉCOLE", "Σ", ""])
def test_letters_beyond_the_rule_are_refused(raw: str) -> None:
    with pytest.raises(Invalid):
        normalize_symbol(raw)
