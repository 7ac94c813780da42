"""Optional LLM rationale of a fired alert, through the Polygon and OpenAI-compatible doubles: the first `alert`
event never waits for the model; the rationale follows as an update event and is stored on the trigger; a slow
or failing model is ignored."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from core.engines import alert_rationale
from core.runtime import Runtime
from core.settings import PolygonSettings, Settings
from tests.doubles.llm import OpenAIDouble, answer, error, slow
from tests.doubles.polygon import API_KEY as POLYGON_KEY
from tests.doubles.polygon import PolygonDouble
from tests.integration.test_alert_pipeline import next_alert, trade, wait_for

ROLES = frozenset({"api", "engine"})
RATIONALE = "SPY broke above 500, a level it rejected twice; watch whether it holds on a retest."


@pytest.fixture
async def llm() -> AsyncIterator[OpenAIDouble]:
    async with OpenAIDouble() as double:
        yield double


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str, pg: PolygonDouble,
             llm: OpenAIDouble) -> Settings:
    polygon = PolygonSettings(api_key=POLYGON_KEY, rest_url=pg.rest_url, ws_url=pg.ws_url)  # type: ignore[arg-type]
    return make_settings(database_url=database_url, polygon=polygon, alert_poll_sec=60,
                         llm={"base_url": llm.base_url, "api_key": "sk-test", "model": "coach-model"})


async def fire(rt: Runtime, pg: PolygonDouble) -> tuple[str, Any]:
    sub = rt.bus.subscribe(["alert"], name="test")
    created = await rt.alerts.create({"symbol": "SPY", "condition": "price_above", "level": "500"})
    await pg.wait_until(lambda: "T.SPY" in pg.subscriptions)
    await pg.push([trade("SPY", 500.25)])
    return created.id, sub


async def test_rationale_follows_the_first_alert_as_an_update_and_is_stored(
        settings: Settings, pg: PolygonDouble, llm: OpenAIDouble) -> None:
    llm.push(slow(answer(f"  {RATIONALE}\n"), 1.0))
    async with Runtime(settings, roles=ROLES) as rt:
        alert_id, sub = await fire(rt, pg)
        first = await next_alert(sub, within=5)
        first_at = time.monotonic()
        assert first.meta is not None and first.meta.alert_id == alert_id and first.meta.update is None
        assert first.meta.actions  # the chips came with the first delivery, not with the rationale
        update = await next_alert(sub, within=5)
        assert time.monotonic() - first_at >= 0.8  # the first alert did not wait for the model's 1 s answer
        assert update.meta is not None
        assert update.level == "info" and update.msg == f"SPY: {RATIONALE}"
        meta = update.meta
        assert (meta.alert_id, meta.trigger_id, meta.update, meta.rationale, meta.actions) == (
            alert_id, first.meta.trigger_id, "rationale", RATIONALE, ())

        async def stored() -> bool:
            items = await rt.alerts.triggers(alert_id)
            return bool(items) and items[0].rationale == RATIONALE

        await wait_for(stored)
        await sub.close()
    [request] = llm.requests
    user = request.body["messages"][-1]["content"]
    assert '"symbol": "SPY"' in user and '"price": "500.25"' in user and '"level": "500"' in user


@pytest.mark.parametrize("reply", [slow(answer(RATIONALE), 3.0), error(400, "model not found")],
                         ids=["timeout", "error"])
async def test_slow_or_failing_model_is_ignored(settings: Settings, pg: PolygonDouble, llm: OpenAIDouble,
                                                monkeypatch: pytest.MonkeyPatch, reply: Any) -> None:
    monkeypatch.setattr(alert_rationale, "TIMEOUT_SEC", 0.5)
    llm.push(reply)
    async with Runtime(settings, roles=ROLES) as rt:
        alert_id, sub = await fire(rt, pg)
        first = await next_alert(sub, within=5)
        assert first.meta is not None and first.meta.alert_id == alert_id
        with pytest.raises(TimeoutError):
            await next_alert(sub, within=1.0)
        [trigger] = await rt.alerts.triggers(alert_id)
        assert trigger.rationale is None and trigger.deliveries[0].status == "delivered"
        assert len(llm.requests) == 1
        await sub.close()
