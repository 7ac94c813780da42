"""The vendor error tables (first matching row wins, every status has a row) and the API's status table."""

from __future__ import annotations

import pytest

from api.auth import Unauthorized
from api.errors import http_status
from core.adapters.discord_webhook import ERRORS as DISCORD_WEBHOOK
from core.adapters.error_map import ErrorTable, Fault, core_error
from core.adapters.feeds.client import ERRORS as FEEDS
from core.adapters.llm.openai_compat import ERRORS as LLM
from core.adapters.polygon.rest import ERRORS as POLYGON
from core.adapters.tradier.broker import ERRORS as TRADIER
from core.errors import (
    CoreError,
    ExternalPermanent,
    ExternalTransient,
    IntegrationDisabled,
    Invalid,
    MalformedAnswer,
    NotEntitled,
    NotFound,
    OrderOutcomeUnknown,
    RiskDenied,
)

TABLES = {"tradier": TRADIER, "polygon": POLYGON, "llm": LLM, "discord_webhook": DISCORD_WEBHOOK, "feeds": FEEDS}


@pytest.mark.parametrize("table", TABLES.values(), ids=TABLES.keys())
@pytest.mark.parametrize("status", [300, 400, 401, 403, 404, 408, 409, 418, 429, 500, 502, 503, 599])
def test_every_table_has_a_row_for_every_status(table: ErrorTable, status: int) -> None:
    error = core_error(table, Fault("vendor", status, reason="why"))
    expected = ExternalTransient if status == 429 or status >= 500 else CoreError
    assert isinstance(error, expected)


@pytest.mark.parametrize(("table", "status", "kind"), [
    (TRADIER, 401, IntegrationDisabled), (TRADIER, 403, NotEntitled), (TRADIER, 404, NotFound),
    (TRADIER, 400, ExternalPermanent), (POLYGON, 401, IntegrationDisabled), (POLYGON, 403, NotEntitled),
    (POLYGON, "NOT_FOUND", NotFound), (POLYGON, "ERROR", ExternalPermanent), (LLM, 401, IntegrationDisabled),
    (LLM, 408, ExternalTransient), (LLM, 400, ExternalPermanent), (FEEDS, 404, ExternalPermanent),
    (DISCORD_WEBHOOK, 400, ExternalPermanent),
])
def test_the_first_matching_row_wins(table: ErrorTable, status: int | str, kind: type[CoreError]) -> None:
    assert type(core_error(table, Fault("vendor", status, reason="why"))) is kind


def test_a_table_without_a_row_for_the_status_says_so() -> None:
    with pytest.raises(LookupError, match="no row for status 404"):
        core_error(((401, lambda f: NotFound(f.reason)),), Fault("Acme", 404))


def test_rows_carry_the_vendor_words_and_retry_hint() -> None:
    error = core_error(POLYGON, Fault("Polygon", 503, reason="busy", retry_after=2.0, details={"path": "/v2"}))
    assert isinstance(error, ExternalTransient)
    assert (error.message, error.retry_after, error.details) == ("Polygon 503: busy", 2.0, {"path": "/v2"})


@pytest.mark.parametrize(("error", "status"), [
    (Unauthorized("no key"), 401), (NotFound("x"), 404), (Invalid("x"), 422), (RiskDenied("x"), 403),
    (IntegrationDisabled("broker", "off", "turn it on"), 503), (ExternalTransient("x"), 503),
    (OrderOutcomeUnknown("x"), 503), (ExternalPermanent("x"), 502), (NotEntitled("x"), 502),
    (MalformedAnswer("Polygon", "GET /", {}, "a list"), 502), (CoreError("x"), 400),
])
def test_the_api_picks_the_status_of_each_error_by_its_nearest_class(error: CoreError, status: int) -> None:
    assert http_status(error) == status
