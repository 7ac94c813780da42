"""Slack's HTTP request signatures, checked before Bolt sees the request: `v0=HMAC-SHA256(secret,
"v0:<timestamp>:<raw body>")` with a whole-number timestamp within 5 minutes of now, and each signed request
handled once.

Bolt's own check turns a timestamp that is not a whole number into a 500 with a traceback (its `int()` raises),
and it accepts the same signed request again for the whole window, so a captured `/ta order` or Confirm click
could be replayed. Here both are a 401 saying why, with `X-Slack-No-Retry: 1` (a refused request stays refused).
A repeated Events API delivery is the exception: Slack retries an event it thinks was not acknowledged, so it is
acknowledged (200) and dropped, as the event-id check in `bots.slack.app` does for a re-signed retry. The replay
memory is per process and keeps each signature only until its window has passed.
"""

from __future__ import annotations

import hmac
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping

from slack_sdk.signature import SignatureVerifier

WINDOW_SEC = 5 * 60
REPLAY = "this signed request was already handled (replay)"
MAX_REMEMBERED = 200_000  # bounds memory under a flood; at Slack's own rates the window holds far fewer


class SignedRequests:
    def __init__(self, signing_secret: str, *, clock: Callable[[], float] = time.time) -> None:
        self._verifier = SignatureVerifier(signing_secret)
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()  # signature -> when it leaves the window

    def refusal(self, body: bytes, headers: Mapping[str, str]) -> str | None:
        """Why the request is refused, or None when it is signed, fresh and new (it is then remembered)."""
        stamp = headers.get("x-slack-request-timestamp") or ""
        signature = headers.get("x-slack-signature") or ""
        if not stamp or not signature:
            return "missing X-Slack-Request-Timestamp or X-Slack-Signature"
        if not (stamp.isascii() and stamp.isdigit()):
            return "X-Slack-Request-Timestamp is not a whole number of seconds"
        now = self._clock()
        if abs(now - int(stamp)) > WINDOW_SEC:
            return "X-Slack-Request-Timestamp is more than 5 minutes from now"
        expected = self._verifier.generate_signature(timestamp=stamp, body=body)
        if expected is None or not hmac.compare_digest(expected, signature):
            return "the signature does not match the body"
        self._forget_before(now)
        if signature in self._seen:
            return REPLAY
        self._seen[signature] = int(stamp) + WINDOW_SEC
        while len(self._seen) > MAX_REMEMBERED:
            self._seen.popitem(last=False)
        return None

    def _forget_before(self, now: float) -> None:
        while self._seen:
            signature, until = next(iter(self._seen.items()))
            if until >= now:
                return
            del self._seen[signature]
