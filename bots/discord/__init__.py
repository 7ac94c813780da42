"""The Discord front-end: slash commands, alert cards with buttons, confirm dialogs (discord.py ~=2.7)."""

from bots.discord.bot import TradeBot, build_discord_bot, configure_endpoints, run_bot, sync_commands

__all__ = ["TradeBot", "build_discord_bot", "configure_endpoints", "run_bot", "sync_commands"]
