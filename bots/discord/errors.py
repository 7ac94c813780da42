"""The one place the Discord bot turns errors into user messages (slash commands and buttons both use it)."""

from __future__ import annotations

from typing import Any

import discord
import structlog
from discord import app_commands

from core.errors import (
    Conflict,
    CoreError,
    Expired,
    ExternalPermanent,
    ExternalTransient,
    Forbidden,
    IntegrationDisabled,
    Invalid,
    NotFound,
    RiskDenied,
)

log = structlog.get_logger("bots.discord")


class NotATrader(app_commands.CheckFailure):
    """A non-trader tried a command that needs one (bots.discord.access); the message says which TRADERS entry
    would admit them."""


def user_message(error: BaseException) -> str:
    """A short, actionable message for `error` (never a stack trace or a secret)."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, IntegrationDisabled):
        return f"{error.integration} is disabled: {error.reason}.\nTo enable: {error.how_to_enable}"
    if isinstance(error, RiskDenied):
        return f"Refused by risk: {error.reason}"
    if isinstance(error, Conflict):
        return error.message if error.message.startswith("already handled") else f"Conflict: {error.message}"
    if isinstance(error, Expired | Forbidden | NotFound | Invalid):
        return error.message
    if isinstance(error, ExternalTransient):
        return f"The data provider is not answering right now ({error.message}); try again shortly."
    if isinstance(error, ExternalPermanent):
        return f"The provider refused: {error.message}"
    if isinstance(error, CoreError):
        return error.message
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {error.retry_after:.0f} s."
    if isinstance(error, NotATrader):
        return str(error)
    if isinstance(error, app_commands.CheckFailure):
        return "You may not use this command here."
    if isinstance(error, app_commands.TransformerError | app_commands.CommandSignatureMismatch):
        return str(error)
    return "Something went wrong on our side; it was logged."


async def reply_error(interaction: discord.Interaction[Any], error: BaseException) -> None:
    """Tell the user what went wrong, ephemerally, whether or not the interaction was answered already."""
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    if not isinstance(original, CoreError | app_commands.AppCommandError):
        log.error("discord.handler_failed", exc_info=original)
    text = user_message(error)[:2000]
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException as exc:
        log.warning("discord.error_reply_failed", status=exc.status, error=str(exc))
