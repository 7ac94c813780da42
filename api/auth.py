"""The X-API-Key gate: one key per installation, generated on first start when API_KEY is not set."""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from fastapi import Request

from core.errors import CoreError
from core.settings import MIN_SECRET_CHARS, Settings

KEY_FILE = "api_key"


class Unauthorized(CoreError):
    code = "unauthorized"
    http_status = 401


def resolve_api_key(settings: Settings) -> tuple[str, bool]:
    """(key, generated_now). A generated key is written to var/api_key with mode 0600."""
    if settings.api_key is not None:
        return settings.api_key.get_secret_value(), False
    path = Path(settings.var_dir) / KEY_FILE
    if path.exists():
        key = path.read_text().strip()
        if len(key) < MIN_SECRET_CHARS:
            raise ValueError(f"{path} holds a key of {len(key)} characters, at least {MIN_SECRET_CHARS} are "
                             "required: delete the file to have a new one generated, or set API_KEY")
        return key, False
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key, True


def key_matches(given: str | None, expected: str) -> bool:
    if not given or not expected:  # an empty key never matches, even an empty configured one
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


async def require_api_key(request: Request) -> None:
    if not key_matches(request.headers.get("x-api-key"), request.app.state.api_key):
        raise Unauthorized("missing or wrong X-API-Key header; the key is in var/api_key or the API_KEY setting")
