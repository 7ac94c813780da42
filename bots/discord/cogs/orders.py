"""/order: options -> OrderService.propose -> ephemeral preview with Confirm (danger) / Cancel buttons."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import discord
from discord import app_commands

from bots.discord.buttons import require_trader, send_preview
from bots.discord.cogs.common import FeatureCog, actor, symbol_choices
from core.domain.order_input import parse_order

SIDES = [app_commands.Choice(name=n, value=v) for n, v in
         (("buy", "buy"), ("sell", "sell"), ("sell short", "sell_short"), ("buy to cover", "buy_to_cover"))]
TYPES = [app_commands.Choice(name=n, value=v) for n, v in
         (("market", "market"), ("limit", "limit"), ("stop", "stop"), ("stop limit", "stop_limit"))]
DURATIONS = [app_commands.Choice(name="day", value="day"), app_commands.Choice(name="good till cancelled", value="gtc")]


def _dec(value: float | None) -> str | None:
    return None if value is None else str(Decimal(str(value)))


class OrdersCog(FeatureCog):
    @app_commands.command(name="order", description="Preview an order; nothing is sent until you confirm")
    @app_commands.describe(symbol="Ticker", side="Buy or sell", quantity="Shares", type="Order type",
                           price="Limit price (limit, stop limit)", stop="Stop price (stop, stop limit)",
                           duration="Time in force (default: day)")
    @app_commands.choices(side=SIDES, type=TYPES, duration=DURATIONS)
    async def order(self, interaction: discord.Interaction[Any], *, symbol: str, side: app_commands.Choice[str],
                    quantity: app_commands.Range[int, 1, 1_000_000], type: app_commands.Choice[str],
                    price: app_commands.Range[float, 0.0001, None] | None = None,
                    stop: app_commands.Range[float, 0.0001, None] | None = None,
                    duration: app_commands.Choice[str] | None = None) -> None:
        if not await require_trader(interaction):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)  # risk check + broker preview
        body: dict[str, Any] = {"symbol": symbol, "side": side.value, "quantity": str(quantity), "type": type.value,
                                "duration": duration.value if duration else "day"}
        for name, value in (("price", _dec(price)), ("stop", _dec(stop))):
            if value is not None:
                body[name] = value
        result = await self.runtime.orders.propose(actor(interaction), parse_order(body), source="discord")
        await send_preview(interaction, result.to_dict())

    @order.autocomplete("symbol")
    async def _order_symbols(self, interaction: discord.Interaction[Any],
                             current: str) -> list[app_commands.Choice[str]]:
        return await symbol_choices(self.runtime, current)
