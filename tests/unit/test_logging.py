"""Secrets never reach the log: known shapes and the configured values are masked, stdlib loggers included."""

from __future__ import annotations

import io
import logging

import orjson
import structlog

from core.logs import Redactor, configure_logging

DISCORD_TOKEN = "MTA5ODc2NTQzMjEwOTg3NjU0.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB"


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_structlog_and_stdlib_lines_are_json_and_redacted() -> None:
    stream = io.StringIO()
    configure_logging("INFO", secrets=["my-configured-secret-value"], stream=stream)
    log = structlog.get_logger("test")
    log.info("calling", url="https://api.polygon.io/v2/aggs?apiKey=abc123secret&limit=5",
             headers={"Authorization": "Bearer tok_live_999", "X-API-Key": "k-12345678"},
             note="the value my-configured-secret-value leaked")
    logging.getLogger("slack_sdk").warning("token xoxb-1111-2222-abcdef used; app xapp-1-A1-xyz")
    logging.getLogger("discord.http").warning("login with %s", DISCORD_TOKEN)
    logging.getLogger("webhook").warning("POST https://discord.com/api/webhooks/123456/SeCrEtToKeN_abc")
    text = stream.getvalue()
    for secret in ("abc123secret", "tok_live_999", "k-12345678", "my-configured-secret-value", "xoxb-1111",
                   "xapp-1-A1", DISCORD_TOKEN, "SeCrEtToKeN_abc"):
        assert secret not in text, secret
    lines = _lines(stream)
    assert lines[0]["event"] == "calling"
    assert lines[0]["url"] == "https://api.polygon.io/v2/aggs?apiKey=***&limit=5"
    assert lines[0]["level"] == "info"
    assert "timestamp" in lines[0]
    assert "webhooks/123456/***" in str(lines[3]["event"])


def test_request_id_is_carried_by_contextvars() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    structlog.contextvars.bind_contextvars(request_id="req-42")
    try:
        structlog.get_logger("x").info("inside")
    finally:
        structlog.contextvars.unbind_contextvars("request_id")
    structlog.get_logger("x").info("outside")
    inside, outside = _lines(stream)
    assert inside["request_id"] == "req-42"
    assert "request_id" not in outside


def test_redactor_leaves_ordinary_text_alone() -> None:
    redactor = Redactor(["short"])  # too short to be a secret worth blanket-masking
    text = "AAPL crossed 190.50 at 14:31, short squeeze"
    assert redactor.redact(text) == text
