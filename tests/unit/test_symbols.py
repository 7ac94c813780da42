"""normalize_symbol: symbols in and out of shape, and a normalised symbol is its own normal form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.symbols import _EQUITY, _OPTION, normalize_symbol
from core.errors import Invalid


@given(st.text(alphabet=st.sampled_from("AZaz09. :ÉéßΣ\t"), max_size=13))
def test_a_symbol_is_upper_case_in_shape_and_normalises_to_itself(raw: str) -> None:
    try:
        symbol = normalize_symbol(raw)
    except Invalid as exc:
        assert "is not a valid symbol" in exc.message
    else:
        assert symbol == raw.strip().upper() and (_EQUITY.match(symbol) or _OPTION.match(symbol))
        assert normalize_symbol(symbol) == symbol


@pytest.mark.parametrize(("raw", "expected"), [("AAPL", "AAPL"), ("ABCDEFGHIJ", "ABCDEFGHIJ"), (" aapl ", "AAPL"),
                                               ("brk.b", "BRK.B"), ("O:SPY240621C00500000", "O:SPY240621C00500000")])
def test_symbols_in_and_out_of_shape(raw: str, expected: str) -> None:
    assert normalize_symbol(raw) == expected


@pytest.mark.parametrize("raw", ["ABCDEFGHIJK", "ÉCOLE", "Σ", ""])
def test_letters_beyond_the_rule_are_refused(raw: str) -> None:
    with pytest.raises(Invalid):
        normalize_symbol(raw)
