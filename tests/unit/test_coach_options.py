"""The coach's option tools: the chain around the money and express-plan drafts (nothing proposed)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from core.adapters.tradier import wire
from core.domain.coach import ToolCall
from core.domain.options import build_chain
from core.domain.options_express import ExpressPrefs, StockPlan
from core.domain.options_types import DEFAULT_RATE, OptionChain
from core.services.coach_deps import OptionalServices
from core.services.coach_tools import CoachTools, TurnContext, UserRequest
from core.services.options import ExpressResult
from tests.doubles.tradier import fixture_text

AS_OF = datetime(2019, 5, 6, 20, tzinfo=UTC)


class FakeOptions:
    """OptionsService's read side over the Tradier docs chain; records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[Any] = []

    async def chain(self, symbol: str, expiration: date | None = None) -> OptionChain:
        self.asked.append(("chain", symbol, expiration))
        contracts = wire.parse_chain(wire.decode(fixture_text("docs_options_chain_vxx.json").encode()))
        return build_chain(symbol, contracts, underlying_price=26.9, source="tradier", as_of=AS_OF,
                           rate=DEFAULT_RATE, expiration=date(2019, 5, 17))

    async def express(self, symbol: str, plan: StockPlan, prefs: ExpressPrefs, *, equity: object = None,
                      confidence: object = None) -> ExpressResult:
        self.asked.append(("express", symbol, plan, prefs, equity))
        return ExpressResult(symbol, 26.9, "tradier", AS_OF, (), ("no contract matched",))


def _tools(options: FakeOptions | None) -> CoachTools:
    return CoachTools(market=None, settings=None, journal=None,  # type: ignore[arg-type]
                      resolve=lambda: OptionalServices(options=options))


def call(name: str, arguments: dict[str, Any]) -> ToolCall:
    return ToolCall("c1", name, json.dumps(arguments), arguments)


def _ctx() -> TurnContext:
    return TurnContext(actor="api", request=UserRequest.of("what would VXX options look like?"), now=AS_OF)


async def test_options_chain_tool_returns_the_chain_around_the_money_with_its_source() -> None:
    options = FakeOptions()
    outcome = await _tools(options).run(call("options_chain", {"symbol": "vxx", "strikes": 1}), _ctx())
    assert options.asked == [("chain", "VXX", None)]
    assert outcome.result["symbol"] == "VXX" and outcome.result["underlying_price"] == 26.9
    assert [c["strike"] for c in outcome.result["contracts"]] == [17.0]  # the strike nearest 26.9 of 16 and 17
    assert outcome.sources[0].endpoint == "tradier:options_chain"


async def test_express_plan_tool_only_drafts_and_bad_arguments_are_refused() -> None:
    options = FakeOptions()
    tools = _tools(options)
    outcome = await tools.run(call("express_plan", {"symbol": "VXX", "side": "long", "entry": 27,
                                                              "stop": 26, "targets": [29]}), _ctx())
    assert options.asked[0][0] == "express" and options.asked[0][2].targets == (29.0,)
    assert "nothing was sent" in outcome.result["drafts_only"]
    bad = await tools.run(call("express_plan", {"symbol": "VXX", "side": "up", "entry": 27,
                                                          "stop": 26}), _ctx())
    assert "error" in bad.result and len(options.asked) == 1


async def test_without_a_data_source_the_tools_say_how_to_enable_them() -> None:
    outcome = await _tools(None).run(call("options_chain", {"symbol": "SPY"}), _ctx())
    assert "TRADIER_ACCESS_TOKEN" in outcome.result["error"]
