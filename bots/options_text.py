"""Option chains and express-plan candidates as chat text, shared by the Discord bot and the Slack app (both show
a monospace block; neither has a table widget)."""

from __future__ import annotations

from core.domain.options_types import OptionChain, OptionRow, around_the_money
from core.services.options import ExpressResult

CHAIN_STRIKES = 6


def _n(value: float | None, places: int = 2) -> str:
    return "-" if value is None else f"{value:.{places}f}"


def _line(row: OptionRow) -> str:
    mark = "*" if row.greeks_source == "computed" else " "
    return (f"{row.strike:>8.2f} {row.type[0].upper()} {_n(row.bid):>7} {_n(row.ask):>7} "
            f"{_n(None if row.iv is None else row.iv * 100, 1):>6} {_n(row.delta):>6}{mark} "
            f"{row.open_interest if row.open_interest is not None else '-':>7}")


def chain_text(chain: OptionChain, strikes: int = CHAIN_STRIKES) -> str:
    """The strikes nearest the money as a fixed-width table (a `*` marks greeks computed here)."""
    price = "unknown" if chain.underlying_price is None else f"{chain.underlying_price:g}"
    head = (f"{chain.symbol} options {chain.expiration or ''} · underlying {price} · {chain.source}, "
            f"as of {chain.as_of:%Y-%m-%d %H:%M} UTC")
    rows = around_the_money(chain, strikes)
    if not rows:
        return f"{head}\nNo contracts listed."
    table = "\n".join(["  strike T     bid     ask   iv%   delta       OI", *map(_line, rows)])
    note = "\n* greeks computed (Black-Scholes from the mid)" if any(r.greeks_source == "computed" for r in rows) \
        else ""
    return f"{head}\n```\n{table}\n```{note}"


def express_text(result: ExpressResult) -> str:
    """Each candidate: legs, premium, size for the risk budget, dollar risk at the stop, targets, breakeven."""
    lines = [f"{result.symbol} plan as options (underlying {result.underlying_price:g}, {result.source})"]
    for number, c in enumerate(result.candidates, 1):
        legs = " / ".join(f"{'+' if leg.side == 'buy_to_open' else '-'}{leg.option_symbol}" for leg in c.legs)
        targets = ", ".join(f"{t.target:g} -> {t.value:.2f} ({t.pnl_per_contract:+.0f}/ct)" for t in c.targets)
        lines.append(f"{number}. {c.structure} {legs} · {c.dte} DTE · premium {c.premium:.2f} "
                     f"(${c.cost_per_contract:,.0f}/ct) · {c.contracts} contracts · risk at stop "
                     f"${c.dollar_risk:,.2f} (${c.risk_per_contract:,.2f}/ct) · breakeven {c.breakeven:g}"
                     + (f" · targets {targets}" if targets else ""))
        lines += [f"   ! {warning}" for warning in c.warnings]
    if not result.candidates:
        lines.append("No contract matched.")
    lines += [f"Note: {note}" for note in result.notes]
    lines.append("To take one, propose its order (dashboard Options panel, or /order) and confirm it.")
    return "\n".join(lines)
