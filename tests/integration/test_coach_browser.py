"""The coach panel in a real browser: a scripted turn shows the reply, an unverified number, a suggestion card with
its confidence factors and sources, the order-intent action and the checklist (all rendered as text)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from api.app import create_app
from core.settings import Settings
from tests.conftest import API_KEY
from tests.doubles.llm import OpenAIDouble, answer, call, tool_calls
from tests.integration.test_dashboard_browser import (
    LiveServer,
    enter_key,
    expect,
    open_page,
    playwright_api,
    tid,
)

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(loop_scope="module")
async def coach_server(make_settings: Callable[..., Settings]) -> AsyncIterator[tuple[LiveServer, OpenAIDouble]]:
    async with OpenAIDouble() as llm:
        settings = make_settings(llm={"base_url": llm.base_url, "api_key": "sk-test", "model": "m"})
        live = LiveServer(create_app(settings, roles=frozenset({"api"})))
        await live.start()
        try:
            yield live, llm
        finally:
            await live.stop()


async def test_coach_panel_renders_reply_cards_and_flags(
        coach_server: tuple[LiveServer, OpenAIDouble], page: playwright_api.Page) -> None:
    server, llm = coach_server
    llm.push(tool_calls(call("validate_plan", {"symbol": "SPY", "side": "long", "entry": "512.40", "stop": "510.90",
                                               "targets": ["515.40"]})),
             answer("Long SPY at 512.40, stop 510.90: target 515.40 is 2R. <b>bold?</b> I guess 530.55 next."))
    await page.goto(server.url + "/")
    await enter_key(page, API_KEY)
    await open_page(page, "Coach")
    await tid(page, "coach-input").fill("Is a long SPY at 512.40 with a stop at 510.90 good?")
    await tid(page, "coach-send").click()
    reply = tid(page, "coach-reply")
    await expect(reply).to_contain_text("<b>bold?</b>")  # text, never HTML
    await expect(tid(page, "coach-unverified")).to_contain_text("530.55")
    await expect(page.locator("mark.coach-unverified")).to_have_text("530.55")
    card = tid(page, "coach-suggestion").first
    await expect(card).to_have_attribute("data-kind", "plan")
    await expect(card.get_by_test_id("coach-factors")).to_contain_text("plan")
    await expect(card.get_by_test_id("coach-sources")).to_contain_text("core:plans.validate_plan")
    await expect(tid(page, "coach-checklist")).to_contain_text("risk check")
