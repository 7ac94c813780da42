"""Coach values: provider-neutral chat messages, tool calls and replies, structured suggestions, and the
numbers check that flags any number in a reply that no tool result of the turn contains.

Everything here is pure (no I/O). The LLM adapters translate these values to and from their vendor's wire
format; the coach service builds turns, suggestions and checklists from them.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

import orjson

from core.domain.confidence import Confidence
from core.domain.orders import OrderRequest

Role = Literal["system", "user", "assistant", "tool"]


# --------------------------------------------------------------------------------------------------- chat values
@dataclass(frozen=True, slots=True)
class ToolCall:
    """One tool call the model asked for. ``arguments`` is the parsed object of ``arguments_json``; when the
    model sent something that is not a JSON object, ``arguments`` is empty and ``parse_error`` says why.
    The arguments are untrusted input: validate them against the tool's schema before use."""

    id: str
    name: str
    arguments_json: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    parse_error: str | None = None

    @classmethod
    def parse(cls, call_id: str, name: str, arguments_json: str | None) -> ToolCall:
        raw = arguments_json or "{}"
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            return cls(call_id, name, raw, {}, f"arguments are not valid JSON: {exc}")
        if not isinstance(parsed, dict):
            return cls(call_id, name, raw, {}, "arguments are not a JSON object")
        return cls(call_id, name, raw, parsed)

    @classmethod
    def of(cls, call_id: str, name: str, arguments: Mapping[str, Any]) -> ToolCall:
        """A call built from an already parsed object (the prompted JSON protocol)."""
        return cls(call_id, name, orjson.dumps(arguments).decode(), dict(arguments))


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message of a conversation. ``tool_calls`` only on assistant messages, ``tool_call_id`` only on
    tool messages (the result of that call, as text: usually JSON)."""

    role: Role
    content: str | None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None

    @classmethod
    def system(cls, content: str) -> ChatMessage:
        return cls("system", content)

    @classmethod
    def user(cls, content: str) -> ChatMessage:
        return cls("user", content)

    @classmethod
    def assistant(cls, content: str | None, tool_calls: Sequence[ToolCall] = ()) -> ChatMessage:
        return cls("assistant", content, tuple(tool_calls))

    @classmethod
    def tool(cls, call: ToolCall, content: str) -> ChatMessage:
        return cls("tool", content, tool_call_id=call.id, name=call.name)


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool offered to the model: ``parameters`` is a JSON schema of an object."""

    name: str
    description: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


@dataclass(frozen=True, slots=True)
class LLMReply:
    """What one model call produced: either tool calls (``finish_reason == "tool_calls"``) or an answer.

    ``tools_used`` is False when the reply did not come through a tool protocol: no tools were offered, or
    the model ignored the prompted JSON protocol and its text is passed on as a plain answer; the coach then
    labels the reply "no tools used" (``note`` says why)."""

    content: str | None
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str = "stop"
    usage: Usage | None = None
    tools_used: bool = True
    model: str | None = None
    note: str | None = None

    def as_message(self) -> ChatMessage:
        """The assistant message to append to the conversation before the tool results."""
        return ChatMessage.assistant(self.content, self.tool_calls)


# ------------------------------------------------------------------------------------------ structured replies
class SuggestionKind(StrEnum):
    PLAN = "plan"
    ALERT = "alert"
    ORDER = "order"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Source:
    """Where a number came from: the tool, the vendor endpoint behind it, and the data's as-of time."""

    tool: str
    endpoint: str
    as_of: datetime | None


@dataclass(frozen=True, slots=True)
class SuggestionAction:
    """What a suggestion's button does: open the confirm dialog of an order intent, or create an alert draft.
    The coach never confirms anything itself."""

    kind: Literal["order_intent", "alert_draft"]
    ref: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)

    @property
    def confirm(self) -> tuple[str, str] | None:
        """(intent id, confirm token) of a drafted order intent: what its Confirm button carries."""
        token = self.payload.get("token")
        if self.kind != "order_intent" or not self.ref or not token:
            return None
        return self.ref, str(token)


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One card of a coach reply; ``confidence`` comes from core.domain.confidence (factors, bounded LLM nudge)."""

    text: str
    kind: SuggestionKind
    confidence: Confidence
    rationale: str
    sources: tuple[Source, ...] = ()
    action: SuggestionAction | None = None


@dataclass(frozen=True, slots=True)
class DraftedIntent:
    """An order (or, with `cancel_order_id`, a cancel) the coach drafted through the order service: pending until
    the trader confirms it with `token`."""

    intent_id: str
    rationale: str
    token: str | None
    order: OrderRequest | None = None
    cancel_order_id: str | None = None

    def what(self) -> str:
        """What the intent would do, e.g. "buy 100 TSLA limit at 250" or "cancel order 123"."""
        if self.order is None:
            return f"cancel order {self.cancel_order_id}"
        order = self.order
        price = f" at {order.price}" if order.price else ""
        return f"{order.side.value} {order.quantity} {order.symbol} {order.type.value}{price}"

    def payload(self) -> dict[str, Any]:
        """What its suggestion's button carries: the order in the REST shape, and the confirm token."""
        return {**(self.order.to_dict() if self.order is not None else {}), "token": self.token}


@dataclass(frozen=True, slots=True)
class AlertDraft:
    """An alert the coach drafted: not active until the trader creates it."""

    symbol: str
    condition: Literal["price_above", "price_below"]
    level: str
    timeframe: str
    repeat: str
    channels: tuple[str, ...] = ("ws",)
    threshold_pct: str | None = None
    note: str | None = None

    def payload(self) -> dict[str, Any]:
        """The draft as `POST /alerts` takes it (unset optional fields left out)."""
        body: dict[str, Any] = {"symbol": self.symbol, "condition": self.condition, "level": self.level,
                                "timeframe": self.timeframe, "repeat": self.repeat, "channels": list(self.channels)}
        if self.threshold_pct is not None:
            body["threshold_pct"] = self.threshold_pct
        if self.note:
            body["note"] = self.note
        return body


class ChecklistStage(StrEnum):
    """The execution checklist of a trade, in order."""

    PLAN = "plan"
    SIZE = "size"
    RISK_CHECK = "risk_check"
    ALERT_OR_ORDER = "alert_or_order"
    MANAGEMENT = "management"


_STAGE_TODO = {
    ChecklistStage.PLAN: "Validate the plan: entry, stop and targets on the right sides",
    ChecklistStage.SIZE: "Size the position from the risk per share",
    ChecklistStage.RISK_CHECK: "Pass the risk check against today's limits",
    ChecklistStage.ALERT_OR_ORDER: "Set an alert at the entry or draft the order, then confirm it yourself",
    ChecklistStage.MANAGEMENT: "Manage the trade: stop in place, scale out at targets, journal the result",
}


@dataclass(frozen=True, slots=True)
class ChecklistStep:
    stage: ChecklistStage
    text: str
    status: Literal["done", "todo", "blocked"] = "todo"


def execution_checklist(known: Mapping[ChecklistStage, ChecklistStep] | None = None) -> tuple[ChecklistStep, ...]:
    """The five steps in order; stages the turn has evidence for come from ``known``, the rest are todo."""
    known = known or {}
    return tuple(known.get(stage) or ChecklistStep(stage, _STAGE_TODO[stage]) for stage in ChecklistStage)


# ---------------------------------------------------------------------------------------------- numbers check
_NUMBER = re.compile(
    r"(?P<skip>\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"  # dates and timestamps
    r"|\d{1,2}:\d{2}(?::\d{2})?"                                            # clock times
    r"|\d{1,2}/\d{1,2}(?:/\d{2,4})?)"                                       # 6/21, 6/21/2024
    r"|(?<![\w.,:/])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?P<suffix>\s?%|[kKMB](?![A-Za-z]))?"
    r"(?![\w:/]|[.,]\d)"
)
_LOOSE_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
_SCALE = {"k": Decimal(1000), "K": Decimal(1000), "M": Decimal(10**6), "B": Decimal(10**9)}
_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class _Mention:
    text: str
    value: Decimal
    half_ulp: Decimal  # the rounding tolerance implied by how many decimals were written
    percent: bool


def _mentions(text: str) -> Iterable[_Mention]:
    for match in _NUMBER.finditer(text):
        raw = match.group("num")
        if raw is None:
            continue
        value = Decimal(raw.replace(",", ""))
        exponent = value.as_tuple().exponent
        half_ulp = Decimal(5).scaleb((exponent if isinstance(exponent, int) else 0) - 1)
        suffix = (match.group("suffix") or "").strip()
        if suffix in _SCALE:
            value, half_ulp = value * _SCALE[suffix], half_ulp * _SCALE[suffix]
        yield _Mention(match.group(0).strip(), value, half_ulp, suffix == "%")


def _known_values(results: Iterable[object], into: list[Decimal]) -> None:
    for result in results:
        if isinstance(result, bool) or result is None:
            continue
        if isinstance(result, int | float | Decimal):
            value = Decimal(str(result))
            if value.is_finite():
                into.append(abs(value))
        elif isinstance(result, str | bytes):
            text = result.decode() if isinstance(result, bytes) else result
            into.extend(Decimal(raw.replace(",", "")) for raw in _LOOSE_NUMBER.findall(text))
        elif isinstance(result, Mapping):
            _known_values(result.values(), into)
        elif isinstance(result, Iterable):
            _known_values(result, into)
        else:
            _known_values([str(result)], into)


def _within(known: Sequence[Decimal], value: Decimal, tolerance: Decimal) -> bool:
    at = bisect.bisect_left(known, value - tolerance)
    return at < len(known) and known[at] <= value + tolerance


def unverified_numbers(reply: str, tool_results: Iterable[object], *, known_texts: Iterable[str] = (),
                       small_int_limit: int = 10) -> list[str]:
    """Every price, quantity or percentage in ``reply`` that appears in none of ``tool_results``, as written.

    Tool results may be JSON-like values (dicts, lists, numbers, strings) or JSON text. ``known_texts`` holds
    text whose numbers count as known too (the user's own message). Matching is tolerant of formatting and
    sign: ``1,000`` = ``1000``, ``512`` = ``512.00``, ``$1.2M`` = ``1200000``, ``-1.2%`` = ``1.2``; a number
    matches when a known value rounds to it at the precision written (``512.3`` matches ``512.34``); a
    percentage also matches its fraction (``0.5%`` = ``0.005``). Not checked: dates, clock times, ratios
    like ``2:1``, numbers glued to letters (``SPY240621C00500000``, ``2R``, ``5m``, ``Q3``) and whole numbers
    up to ``small_int_limit`` without a ``%`` (list markers, "3 targets")."""
    values: list[Decimal] = []
    _known_values(tool_results, values)
    _known_values(known_texts, values)
    values.sort()
    flagged: dict[str, None] = {}
    for mention in _mentions(reply):
        value = abs(mention.value)
        if not mention.percent and value <= small_int_limit and value == value.to_integral_value():
            continue
        if _within(values, value, mention.half_ulp):
            continue
        if mention.percent and _within(values, value / _HUNDRED, mention.half_ulp / _HUNDRED):
            continue
        flagged.setdefault(mention.text)
    return list(flagged)


# ------------------------------------------------------------------------------------------ execution claims
_DONE = r"(?:placed|submitted|executed|filled|cancell?ed|routed|transmitted|opened|closed|entered)"
_CLAIMS = tuple(re.compile(pattern, re.IGNORECASE) for pattern in (
    # "Order placed for 100 TSLA", "your order has been filled", "the trade was executed"
    rf"\b(?:order|trade|position|purchase)s?\b[^.;!?]{{0,40}}?\b(?:(?:has|have|had)\s+been\s+|was\s+|were\s+|is\s+"
    rf"|are\s+|got\s+|just\s+|now\s+)*{_DONE}\b",
    # "I bought 100 TSLA", "I've placed the order", "we just sold"
    r"\b(?:i|we)(?:'ve|'d|\s+have|\s+had|\s+just|\s+already|\s+successfully|\s+now)*\s+(?:bought|sold|shorted|covered"
    r"|purchased|placed|submitted|executed|filled|cancell?ed|closed|opened|entered|went\s+(?:long|short))\b",
    # "filled at 251.98", "bought 100 TSLA at $251.98", "sold @ 250"
    r"\b(?:filled|executed|bought|sold|shorted)\b(?:\s+[\w.$,]+){0,3}?\s+(?:at|@)\s*\$?\d",
    # "100 TSLA has been bought", "successfully submitted"
    r"\b(?:has|have|had)\s+been\s+(?:bought|sold|shorted|filled|executed|placed|submitted|cancell?ed)\b",
    r"\bsuccessfully\s+(?:placed|submitted|executed|bought|sold|shorted|filled|cancell?ed)\b",
    # "You're now long 100 TSLA"
    r"\byou(?:'re|\s+are)\s+now\s+(?:long|short)\b",
    # a sentence that starts with the deed: "Bought 100 TSLA.", "Done: sold 50 AAPL", "Cancelled order 123."
    r"^\W*(?:done\W+)?(?:bought|sold|shorted|placed|submitted|executed|filled|cancell?ed)\b",
))
# A claim is not one when, before it in its clause, a word negates it or makes it hypothetical or future
_NOT_A_CLAIM = re.compile(
    r"\b(?:not|no|never|nothing|none|neither|nor|cannot|can|could|would|should|might|may|must|will|shall|if|once|"
    r"when|whenever|until|unless|before|after|ready|want|wish|whether|to\s+be|wait|waiting)\b|n't\b", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")
_CLAUSE = re.compile(r",\s+|\s+(?:and|but|so|then)\s+|:\s+|\s+[-–—]\s+")


def _claims_in(clause: str) -> bool:
    for pattern in _CLAIMS:
        for match in pattern.finditer(clause):
            if _NOT_A_CLAIM.search(clause[: match.end()]) is None:
                return True
    return False


def execution_claims(text: str) -> list[str]:
    """The sentences of ``text`` that say an order was placed, filled, executed or cancelled, or that something
    was bought or sold (in any of several phrasings), as written. A phrase negated or made hypothetical before it
    in its clause ("nothing was placed", "if the order is filled", "once filled at 250", "you could buy") is not a
    claim."""
    found: list[str] = []
    for sentence in _SENTENCE.split(text):
        stripped = sentence.strip()
        if stripped and any(_claims_in(clause) for clause in _CLAUSE.split(stripped)):
            found.append(stripped)
    return found


NOT_EXECUTED = "[not true: no order was placed, filled or cancelled]"


def correct_execution_claims(text: str, drafts: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """``text`` with every execution claim corrected in place, headed by a plain statement that no order was
    placed and by the confirm path of each drafted intent (``drafts``: one line each), and the claims found.

    The coach never confirms an order, so no claim of one of its replies is backed by an order of the turn."""
    claims = execution_claims(text)
    if not claims:
        return text, ()
    corrected = text
    for claim in dict.fromkeys(claims):
        corrected = corrected.replace(claim, f"{claim} {NOT_EXECUTED}")
    head = ["**No order was placed.** The coach drafts orders but cannot place, fill or cancel them, and no order "
            "was confirmed in this reply; the text below wrongly said otherwise."]
    if drafts:
        head += ["Waiting for your confirmation (review it, then press Confirm or Cancel on its card):",
                 *(f"- {draft}" for draft in drafts)]
    else:
        head.append("Nothing is waiting for your confirmation: ask for the order to get a draft you can confirm.")
    return "\n".join(head) + "\n\n" + corrected, tuple(claims)
