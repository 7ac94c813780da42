"""One error tree for the whole product.

Faults are exceptions from this tree; outcomes (``Denied(reason)``, a disabled integration's status) are values.
Adapters map vendor errors onto it at their seam, by one table each (core.adapters.error_map); each front-end
maps ``CoreError`` to a user message in exactly one place, and the API alone picks an HTTP status (api.errors).

    CoreError
    ├── NotFound              the thing asked for does not exist
    ├── Invalid               input that cannot be accepted; says what to fix
    ├── Forbidden             the actor may not do this
    ├── Expired               a token, intent or draft is past its time
    ├── Conflict              the state changed under the caller (already handled, duplicate, limit)
    ├── RiskDenied            the risk engine refused; carries the reason
    ├── IntegrationDisabled   credentials missing; carries the reason and how to enable it
    ├── ExternalTransient     a vendor hiccup worth retrying later (429, 5xx, timeouts)
    │   └── OrderOutcomeUnknown  an order was sent, no answer came: resolve by tag, never resend
    └── ExternalPermanent     a vendor said no (bad request, plan lacks the data, rejected order)
        └── MalformedAnswer   a vendor answered in a shape it does not document (never read as no data)
"""

from __future__ import annotations

import json
from typing import Any, ClassVar


class CoreError(Exception):
    """Base of every error the core raises on purpose."""

    code: ClassVar[str] = "error"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class NotFound(CoreError):
    code = "not_found"


class Invalid(CoreError):
    code = "invalid"


class Forbidden(CoreError):
    code = "forbidden"


class Expired(CoreError):
    code = "expired"


class Conflict(CoreError):
    code = "conflict"


class RiskDenied(CoreError):
    code = "risk_denied"

    def __init__(self, reason: str, *, details: Any = None) -> None:
        super().__init__(reason, details=details)
        self.reason = reason


class IntegrationDisabled(CoreError):
    code = "integration_disabled"

    def __init__(self, integration: str, reason: str, how_to_enable: str) -> None:
        super().__init__(
            f"{integration} is disabled: {reason}",
            details={"integration": integration, "reason": reason, "how_to_enable": how_to_enable},
        )
        self.integration = integration
        self.reason = reason
        self.how_to_enable = how_to_enable


class ExternalTransient(CoreError):
    code = "external_transient"

    def __init__(self, message: str, *, retry_after: float | None = None, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after


class ExternalPermanent(CoreError):
    code = "external_permanent"


class NotEntitled(ExternalPermanent):
    """The vendor knows the key but the plan does not include this data (e.g. Polygon 403 NOT_AUTHORIZED)."""

    code = "not_entitled"


class MalformedAnswer(ExternalPermanent):
    """A vendor's answer is not in the shape it documents. Raised instead of reading it as empty, closed or zero:
    the message names the vendor, the request, what came back (shortened) and what was expected."""

    code = "vendor_malformed"

    def __init__(self, vendor: str, request: str, answer: Any, expected: str) -> None:
        super().__init__(f"{vendor} answered {request} with {preview(answer)}; expected {expected}",
                         details={"vendor": vendor, "request": request, "expected": expected})


def preview(answer: Any, limit: int = 160) -> str:
    """A decoded vendor answer as compact JSON, cut at `limit` characters, for an error message."""
    shown = json.dumps(answer, default=str, separators=(",", ":"))
    return shown if len(shown) <= limit else shown[:limit] + "..."


class OrderOutcomeUnknown(ExternalTransient):
    """An order request was sent but no answer came back (timeout, dropped connection, 5xx).

    The broker may or may not have acted on it. Never resend: resolve by looking the order up by its tag
    (``Broker.find_order_by_tag``) or id. ``tag`` and ``order_id`` say what to look for.
    """

    code = "order_outcome_unknown"

    def __init__(self, message: str, *, tag: str | None = None, order_id: str | None = None,
                 details: Any = None) -> None:
        super().__init__(message, details=details)
        self.tag = tag
        self.order_id = order_id
