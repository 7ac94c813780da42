"""/order: options -> OrderService.propose -> ephemeral preview with Confirm (danger) / Cancel buttons.

Without all of symbol/side/quantity/type, /order opens `OrderModal` (prefilled with what was given); its submit
shows the same preview. Both build the REST order body and parse it with `parse_order`, so a bad value is refused
naming its field.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import discord
from discord import app_commands

from bots.discord.buttons import actor_of, runtime_of, send_preview
from bots.discord.cogs.common import FeatureCog, actor, symbol_choices
from bots.discord.errors import reply_error
from core.domain.order_input import parse_order
from core.errors import Invalid

SIDES = [app_commands.Choice(name=n, value=v) for n, v in
         (("buy", "buy"), ("sell", "sell"), ("sell short", "sell_short"), ("buy to cover", "buy_to_cover"))]
TYPES = [app_commands.Choice(name=n, value=v) for n, v in
         (("market", "market"), ("limit", "limit"), ("stop", "stop"), ("stop limit", "stop_limit"))]
DURATIONS = [app_commands.Choice(name="day", value="day"), app_commands.Choice(name="good till cancelled", value="gtc")]
MODAL_TIMEOUT_SEC = 600.0


def _dec(value: float | None) -> str | None:
    return None if value is None else str(Decimal(str(value)))


def _word(text: str) -> str:
    """"Sell Short" / "sell-short" -> "sell_short" (the enum spelling)."""
    return "_".join(text.strip().lower().replace("-", " ").split())


def modal_body(*, side: str, quantity: str, symbol: str, type: str, price: str) -> dict[str, Any]:
    """The modal's text fields as an order body. `price` is the limit price (limit), the stop price (stop), or
    "limit/stop" (stop limit); a market order takes none."""
    body: dict[str, Any] = {"symbol": symbol.strip(), "side": _word(side), "quantity": quantity.strip(),
                            "type": _word(type), "duration": "day"}
    prices = [p for p in price.replace("/", " ").split() if p]
    if body["type"] == "stop_limit":
        if len(prices) != 2:
            raise Invalid("invalid order: price: a stop limit order needs both prices, written limit/stop "
                          "(e.g. 101.50/101.00)", details=[{"field": "price", "message": "expected limit/stop"}])
        body["price"], body["stop"] = prices
    elif len(prices) > 1:
        raise Invalid("invalid order: price: write one price (or limit/stop for a stop limit order)",
                      details=[{"field": "price", "message": "expected one price"}])
    elif prices:
        body["stop" if body["type"] == "stop" else "price"] = prices[0]
    return body


class OrderModal(discord.ui.Modal, title="Order preview"):
    """Nothing is sent from here: the submit shows the Confirm/Cancel preview."""

    side: discord.ui.TextInput[OrderModal] = discord.ui.TextInput(
        custom_id="side", label="Side", placeholder="buy, sell, sell short, buy to cover", max_length=20)
    quantity: discord.ui.TextInput[OrderModal] = discord.ui.TextInput(
        custom_id="quantity", label="Quantity", placeholder="shares, e.g. 10", max_length=12)
    symbol: discord.ui.TextInput[OrderModal] = discord.ui.TextInput(
        custom_id="symbol", label="Symbol", placeholder="e.g. AAPL", max_length=32)
    type: discord.ui.TextInput[OrderModal] = discord.ui.TextInput(
        custom_id="type", label="Type", placeholder="market, limit, stop, stop limit", default="market",
        max_length=20)
    price: discord.ui.TextInput[OrderModal] = discord.ui.TextInput(
        custom_id="price", label="Price (limit; stop; limit/stop)", placeholder="empty for market", required=False,
        max_length=40)

    def __init__(self, *, defaults: dict[str, str]) -> None:
        super().__init__(timeout=MODAL_TIMEOUT_SEC)
        for name, value in defaults.items():
            getattr(self, name).default = value

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # risk check + broker preview
        body = modal_body(side=self.side.value, quantity=self.quantity.value, symbol=self.symbol.value,
                          type=self.type.value, price=self.price.value or "")
        result = await runtime_of(interaction).orders.propose(actor_of(interaction), parse_order(body),
                                                              source="discord")
        await send_preview(interaction, result)

    async def on_error(self, interaction: discord.Interaction[Any], error: Exception, /) -> None:  # type: ignore[override]
        await reply_error(interaction, error)


class OrdersCog(FeatureCog):
    @app_commands.command(name="order", description="Preview an order (no options: a form); nothing is sent "
                                                    "until you confirm")
    @app_commands.describe(symbol="Ticker", side="Buy or sell", quantity="Shares", type="Order type",
                           price="Limit price (limit, stop limit)", stop="Stop price (stop, stop limit)",
                           duration="Time in force (default: day)")
    @app_commands.choices(side=SIDES, type=TYPES, duration=DURATIONS)
    async def order(self, interaction: discord.Interaction[Any], *, symbol: str | None = None,
                    side: app_commands.Choice[str] | None = None,
                    quantity: app_commands.Range[int, 1, 1_000_000] | None = None,
                    type: app_commands.Choice[str] | None = None,
                    price: app_commands.Range[float, 0.0001, None] | None = None,
                    stop: app_commands.Range[float, 0.0001, None] | None = None,
                    duration: app_commands.Choice[str] | None = None) -> None:
        if symbol is None or side is None or quantity is None or type is None:
            given = {"symbol": symbol, "side": side.name if side else None,
                     "quantity": None if quantity is None else str(quantity), "type": type.name if type else None,
                     "price": " / ".join(v for v in (_dec(price), _dec(stop)) if v) or None}
            await interaction.response.send_modal(OrderModal(defaults={k: v for k, v in given.items() if v}))
            return  # a modal must be the first response
        await interaction.response.defer(ephemeral=True, thinking=True)  # risk check + broker preview
        body: dict[str, Any] = {"symbol": symbol, "side": side.value, "quantity": str(quantity), "type": type.value,
                                "duration": duration.value if duration else "day"}
        for name, value in (("price", _dec(price)), ("stop", _dec(stop))):
            if value is not None:
                body[name] = value
        result = await self.runtime.orders.propose(actor(interaction), parse_order(body), source="discord")
        await send_preview(interaction, result)

    @order.autocomplete("symbol")
    async def _order_symbols(self, interaction: discord.Interaction[Any],
                             current: str) -> list[app_commands.Choice[str]]:
        return await symbol_choices(interaction, current)
