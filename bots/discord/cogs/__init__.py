"""One cog per feature; each command parses its options, calls one core method and renders the result."""

from __future__ import annotations

from typing import TYPE_CHECKING

from discord.ext import commands

from bots.discord.cogs.alerts import AlertsCog
from bots.discord.cogs.coach import CoachCog
from bots.discord.cogs.journal import JournalCog
from bots.discord.cogs.market import MarketCog, WatchCog
from bots.discord.cogs.news import NewsCog
from bots.discord.cogs.options import OptionsCog
from bots.discord.cogs.orders import OrdersCog
from bots.discord.cogs.picks import PicksCog
from bots.discord.cogs.plans import PlansCog
from bots.discord.cogs.positions import PositionsCog
from bots.discord.cogs.risk import RiskCog
from bots.discord.cogs.settings import SettingsCog

if TYPE_CHECKING:
    from bots.discord.bot import TradeBot


def build_cogs(bot: TradeBot) -> list[commands.Cog]:
    return [MarketCog(bot), WatchCog(bot), AlertsCog(bot), RiskCog(bot), OrdersCog(bot), CoachCog(bot),
            PositionsCog(bot), JournalCog(bot), PlansCog(bot), SettingsCog(bot), NewsCog(bot),
            OptionsCog(bot), PicksCog(bot)]
