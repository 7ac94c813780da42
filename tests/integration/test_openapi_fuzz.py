"""A bounded schemathesis run over every operation of the OpenAPI, against the app with Polygon and Tradier doubles
behind it: no 5xx, and every answer matches the schema its operation declares.

Fixed (derandomized) examples, up to 60 per operation, so it runs in well under a minute per database and fails
the same way every time. The only 5xx allowed is the 503 of an integration that is disabled on purpose here (the
coach: no model in this test), which says so with `integration_disabled`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.app import create_app
from core.settings import PolygonSettings, Settings
from tests.conftest import API_KEY
from tests.doubles.polygon import API_KEY as POLYGON_KEY
from tests.doubles.polygon import PolygonDouble
from tests.doubles.tradier import TradierDouble
from tests.integration.orders_helpers import broker_settings, unthrottled

EXAMPLES_PER_OPERATION = 60
KEY = {"X-API-Key": API_KEY}


def _disabled_on_purpose(response: Any) -> bool:
    if response.status_code != 503:
        return False
    try:
        error = response.json()["error"]
    except ValueError:
        return False
    return bool(error.get("code") == "integration_disabled" and error["details"]["integration"] == "coach")


def _fuzz(app: FastAPI) -> list[str]:
    """Every operation, a fixed set of examples each; the failures, one line per operation."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=KEY)
    unthrottled(app.state.runtime)
    failures: list[str] = []
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            nonlocal calls
            calls += 1
            response = case.call(headers=KEY)
            checks = [response_schema_conformance]
            if not _disabled_on_purpose(response):
                checks.append(not_a_server_error)
            case.validate_response(response, checks=checks, headers=KEY)

        try:
            run()
        except Exception as exc:  # one line per failing operation, all of them reported together
            failures.append(f"{operation.label}: {str(exc)[:2000]}")
    assert calls > 1000, f"only {calls} requests were made"  # about 1,700 (40 operations)
    return failures


async def test_no_5xx_and_every_answer_matches_its_schema(make_settings: Callable[..., Settings],
                                                          database_url: str) -> None:
    async with PolygonDouble() as polygon, TradierDouble(allowed=100_000) as tradier:  # no 429s: see the lifespan
        market = PolygonSettings(_env_file=None, api_key=POLYGON_KEY, rest_url=polygon.rest_url,  # type: ignore[call-arg]
                                 ws_url=polygon.ws_url)
        app = create_app(broker_settings(make_settings, database_url, tradier, polygon=market),
                         roles=frozenset({"api"}))
        started = app.router.lifespan_context

        @asynccontextmanager
        async def unthrottled_lifespan(application: FastAPI) -> AsyncIterator[None]:
            """Without the client-side Tradier budget: hundreds of requests a minute would otherwise wait for it
            (as they should) past the fuzzer's read timeout."""
            async with started(application):
                unthrottled(application.state.runtime)
                yield

        app.router.lifespan_context = unthrottled_lifespan
        try:
            failures = await asyncio.to_thread(_fuzz, app)
        finally:
            await asyncio.to_thread(asgi.shutdown_lifespans)
    assert failures == [], "\n\n".join(failures)


def test_every_request_body_is_a_typed_object(make_settings: Callable[..., Settings]) -> None:
    """The OpenAPI says what each body accepts: a named object whose every field has a type, never `{}`."""
    spec = create_app(make_settings()).openapi()
    components = spec["components"]["schemas"]
    bodies = {f"{method.upper()} {path}": operation["requestBody"]["content"]["application/json"]["schema"]
              for path, operations in spec["paths"].items() for method, operation in operations.items()
              if "requestBody" in operation}
    assert len(bodies) >= 12
    typed = {"type", "anyOf", "allOf", "oneOf", "$ref", "enum"}
    for name, body in bodies.items():
        schema = components[body["$ref"].rsplit("/", 1)[-1]]
        assert schema["type"] == "object" and schema["properties"], name
        untyped = [field for field, value in schema["properties"].items() if not typed & set(value)]
        assert untyped == [], f"{name}: {untyped} accept anything"
        assert schema.get("additionalProperties") is False, f"{name} accepts unknown fields"
