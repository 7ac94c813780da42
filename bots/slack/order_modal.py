"""`/ta order` without arguments: an order-entry modal, and its submission parsed by core's `parse_order`.

The submission is validated by the same parser as the typed command and REST (`core.domain.order_input`), and
every problem is shown inline under the input block it is about (`response_action: "errors"`). A valid order
closes the modal; the proposal's standard preview (Confirm/Cancel with Slack's native confirm) is then posted to
the user's DM with the app: a modal has no response_url, and a DM reaches the user from any channel, including
ones the app was not invited to (where chat.postEphemeral would fail with `not_in_channel`).
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import InputBlock, Option, PlainTextInputElement, StaticSelectElement
from slack_sdk.models.views import View

from core.errors import Invalid

ORDER_MODAL = "order_modal"
VALUE = "value"  # the action id of every input element
SIDES = ("buy", "sell", "sell_short", "buy_to_cover")
TYPES = ("market", "limit", "stop")
# core's field names -> the input block that shows the message; problems with no field land under quantity
FIELD_BLOCKS = {"side": "side", "quantity": "quantity", "symbol": "symbol", "type": "type", "price": "price",
                "stop": "price"}
ERROR_LIMIT = 150


def _select(block_id: str, label: str, values: tuple[str, ...]) -> InputBlock:
    options = [Option(value=value, label=value.replace("_", " ")) for value in values]
    return InputBlock(block_id=block_id, label=label, element=StaticSelectElement(
        action_id=VALUE, options=options, initial_option=options[0]))


def _text(block_id: str, label: str, placeholder: str, *, optional: bool = False) -> InputBlock:
    return InputBlock(block_id=block_id, label=label, optional=optional, element=PlainTextInputElement(
        action_id=VALUE, placeholder=placeholder, max_length=32))


def order_modal() -> dict[str, Any]:
    view = View(type="modal", callback_id=ORDER_MODAL, title="New order", submit="Preview", close="Cancel",
                blocks=[_select("side", "Side", SIDES), _text("quantity", "Quantity", "e.g. 10"),
                        _text("symbol", "Symbol", "e.g. AAPL"), _select("type", "Type", TYPES),
                        _text("price", "Price (limit or stop)", "e.g. 190.50", optional=True)])
    view.validate_json()
    return view.to_dict()


def _value(values: dict[str, Any], block_id: str) -> str | None:
    state = (values.get(block_id) or {}).get(VALUE) or {}
    selected = state.get("selected_option") or {}
    raw = selected.get("value") if state.get("type") == "static_select" else state.get("value")
    return raw.strip() if isinstance(raw, str) and raw.strip() else None


def submitted_order(view: dict[str, Any]) -> dict[str, Any]:
    """The REST order shape from a `view_submission`'s `view.state.values` (not validated yet)."""
    values = (view.get("state") or {}).get("values") or {}
    order: dict[str, Any] = {"side": _value(values, "side"), "quantity": _value(values, "quantity"),
                             "symbol": _value(values, "symbol"), "type": _value(values, "type") or "market"}
    price = _value(values, "price")
    if price is not None and order["type"] != "market":
        order["price" if order["type"] == "limit" else "stop"] = price
    return order


def inline_errors(exc: Invalid) -> dict[str, str]:
    """`{block_id: message}` for `ack(response_action="errors", errors=...)`, the first problem per block."""
    errors: dict[str, str] = {}
    details = exc.details if isinstance(exc.details, list) else []
    for detail in details:
        field = str(detail.get("field") or "").split(".")[0]
        block = FIELD_BLOCKS.get(field, "quantity")
        errors.setdefault(block, str(detail.get("message") or exc.message)[:ERROR_LIMIT])
    return errors or {"quantity": exc.message[:ERROR_LIMIT]}
