"""`/status` on both bots: market data's live state in words, as the runtime reports it, never a raw value."""

from __future__ import annotations

import json

import msgspec

from bots.discord.render import status_embed
from bots.slack.blocks import status_blocks
from core.domain.market_views import FeedStatus, MarketDataStatus, Percentiles, StreamStats

STREAMING = MarketDataStatus.running(
    FeedStatus(state="streaming", reason="connected", url="wss://socket.polygon.io/stocks", channels=2),
    "open", StreamStats(symbols=2, published=10, duplicate_bars=0, feed_lag_ms=Percentiles(40.0, 120.4, 300.0),
                        engine_lag_ms=None, stale=("QQQ",)))
INTEGRATIONS = {
    "market_data": {"name": "market_data", "enabled": True, "reason": "Polygon", "how_to_enable": "",
                    **msgspec.to_builtins(STREAMING)},
    "broker": {"name": "broker", "enabled": False, "reason": "TRADIER_ACCESS_TOKEN not set",
               "how_to_enable": "set TRADIER_ACCESS_TOKEN"},
}
LIVE = "feed streaming · market open · feed lag p95 120 ms · stale: QQQ"


def test_discord_status_names_the_live_state_in_words() -> None:
    fields = {field.name: field.value for field in status_embed(INTEGRATIONS).fields}
    assert fields["market_data"] == f"🟢 enabled\nconnected\n{LIVE}"
    assert fields["broker"] == "🔴 disabled\nTRADIER_ACCESS_TOKEN not set\nTo enable: set TRADIER_ACCESS_TOKEN"
    assert not any("{" in str(value) for value in fields.values())  # no dict shown to the trader


def test_slack_status_names_the_live_state_in_words() -> None:
    text = json.dumps(status_blocks(INTEGRATIONS), ensure_ascii=False)
    assert f"*market_data*: connected ({LIVE})" in text
    assert "*broker*: TRADIER_ACCESS_TOKEN not set — set TRADIER_ACCESS_TOKEN" in text
