"""Confirm tokens: HMAC-SHA256 over (intent id, actor, order hash, expiry) with a server secret.

A front-end shows Confirm carrying only the intent id and this token. The token cannot be forged without the
secret, is bound to one actor and to the exact order (its canonical hash), and dies with the intent's expiry.
Replays are stopped by the intent's PENDING -> SUBMITTING compare-and-set, not by the token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from core.settings import Settings
from core.var_files import read_or_create

SECRET_FILE = "order_confirm_secret"  # noqa: S105 - a file name, not a secret


def order_hash(document: dict[str, Any]) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces) of what would be sent."""
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()


def load_secret(settings: Settings) -> bytes:
    """A random secret of its own, kept in var/order_confirm_secret (mode 0600) and created on first use: one who
    holds the API key cannot forge a confirm token. Processes that confirm each other's proposals share VAR_DIR."""
    text, _ = read_or_create(Path(settings.var_dir) / SECRET_FILE, lambda: secrets.token_bytes(32).hex())
    return bytes.fromhex(text)


class TokenSigner:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the confirm-token secret must be at least 16 bytes")
        self._secret = secret

    def sign(self, intent_id: str, actor: str, digest: str, expires_at: datetime) -> str:
        message = f"{intent_id}\x00{actor}\x00{digest}\x00{int(expires_at.timestamp())}".encode()
        mac = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def verify(self, token: str, intent_id: str, actor: str, digest: str, expires_at: datetime) -> bool:
        expected = self.sign(intent_id, actor, digest, expires_at)
        return hmac.compare_digest(expected.encode(), token.encode("utf-8", "replace"))
