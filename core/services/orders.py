"""Orders a human confirmed once, placed once, and always accounted for.

    propose(actor, order)  validate -> risk gate (Denied is a value: nothing previewed or sent) -> broker preview
                           -> order_intents row PENDING (expires in ORDER_CONFIRM_TTL_SEC, bound to the actor and
                           the sha256 of the exact order) -> intent + preview + risk decision + signed token
    confirm(id, token, a)  a in TRADERS, token valid, a == proposer, not expired -> one UPDATE ... WHERE
                           status='PENDING' (PENDING -> SUBMITTING; losers get Conflict, nothing is sent) ->
                           re-check risk and the price (moved > ORDER_MAX_SLIPPAGE_BPS -> ABORTED) -> place with
                           tag=<intent id> -> SUBMITTED (broker id, echo stored) | REJECTED (broker's reason)
                           | UNKNOWN (no answer) -> poll by tag with backoff <= 30 s -> SUBMITTED, or UNKNOWN
                           and a critical alert for a human. Never resent.

Intent states: PENDING -> SUBMITTING -> SUBMITTED | REJECTED | ABORTED | FAILED (not sent) | UNKNOWN;
PENDING -> CANCELLED | EXPIRED; UNKNOWN -> SUBMITTED. Cancel and replace of a broker order are intents too
(action "cancel"/"replace"; no preview). Every transition writes a journal audit entry (kind "order") in the
same transaction, and `orders` is published on the bus after it commits.

The transitions out of PENDING made here (to SUBMITTING, CANCELLED) are committed durably (`Database.uow(durable=
True)`: they survive an OS crash or power loss, not only a process crash), because losing one would make the
intent confirmable again inside its TTL: sent twice, or sent after it was withdrawn. Losing any other write sends
nothing: a lost PENDING row cannot be confirmed, a lost EXPIRED leaves a PENDING row whose expiry confirm checks
anyway, and an intent that falls back to SUBMITTING is settled by its tag (or reported UNKNOWN) by the tracker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import orjson
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id, utcnow
from core.db.models import OrderIntentRow
from core.db.repositories.journal import JournalRepository
from core.db.repositories.orders import OrderIntentRepository, OrderRepository
from core.db.session import Database
from core.domain.events import AlertEvent, AlertMeta, OrdersEvent
from core.domain.order_input import parse_order
from core.domain.order_text import describe
from core.domain.order_views import CANCEL_APPROVED, BrokerOrderView, Intent, RiskDecision, document
from core.domain.orders import (
    BrokerOrder,
    OrderAck,
    OrderClass,
    OrderDuration,
    OrderRequest,
    OrderType,
    PreviewView,
    validate_order_request,
)
from core.domain.risk import Denied
from core.errors import (
    Conflict,
    CoreError,
    Expired,
    ExternalPermanent,
    Forbidden,
    Invalid,
    NotFound,
    OrderOutcomeUnknown,
)
from core.ports import Broker, EventBus
from core.services.account import AccountService
from core.services.order_risk import RiskGate, run_gate
from core.services.order_tokens import TokenSigner, order_hash
from core.services.order_views import intent_view

log = structlog.get_logger(__name__)

Outcome = Literal["submitted", "rejected", "unknown", "aborted", "failed"]
CANCELED = frozenset({"canceled", "cancelled"})


@dataclass(frozen=True, slots=True)
class ProposeResult:
    """A proposal: the PENDING intent, the broker's preview (none for cancel/replace), the risk decision and the
    token that confirms it. `intent` and `token` are None when risk denied the order (then nothing was previewed
    or stored)."""

    intent: Intent | None
    preview: PreviewView | None
    risk: RiskDecision
    token: str | None
    mode: str

    @property
    def denied(self) -> bool:
        return self.risk.denied


@dataclass(frozen=True, slots=True)
class ConfirmResult:
    """What a confirm did: `outcome` submitted / rejected / unknown (looked up by tag, never resent) / aborted
    (risk or price re-check) / failed (not sent); `code` and `reason` say why when it was not submitted."""

    intent: Intent
    outcome: Outcome
    reason: str | None = None
    code: str | None = None


def _canonical(action: str, order: dict[str, Any], target: str | None) -> dict[str, Any]:
    return {"action": action, "order": order, "target_order_id": target}


def backoff(window: float, first: float = 0.5) -> list[float]:
    """0.5, 1, 2, 4, ... seconds, the last one trimmed so the waits add up to `window`."""
    delays: list[float] = []
    delay, total = first, 0.0
    while total < window:
        step = min(delay, window - total)
        delays.append(step)
        total += step
        delay *= 2
    return delays


class OrderService:
    """Intents: propose, confirm, cancel and replace orders, and account for outcomes the broker left unknown.
    Reads of the account are `account`'s."""

    def __init__(self, db: Database, bus: EventBus, account: AccountService, *, signer: TokenSigner,
                 traders: Sequence[str], confirm_ttl_sec: float = 90, max_slippage_bps: int = 50,
                 risk_gate: RiskGate | None = None, resolve_window_sec: float = 30.0,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.bus = bus
        self.account = account
        self.signer = signer
        self.traders = frozenset(traders)
        self.confirm_ttl = timedelta(seconds=confirm_ttl_sec)
        self.max_slippage_bps = Decimal(max_slippage_bps)
        self.risk_gate = risk_gate
        self.mode = account.mode
        self.resolve_window = resolve_window_sec
        self._sleep = sleep
        self._now = clock
        self._dirty = False
        self._publisher: asyncio.Task[None] | None = None
        self.publish_delay = 0.02

    # -- helpers ---------------------------------------------------------------------------------------

    def require_broker(self) -> Broker:
        return self.account.require_broker()

    @property
    def enabled(self) -> bool:
        return self.account.enabled

    async def _risk(self, order: OrderRequest, price: Decimal | None) -> RiskDecision:
        if self.risk_gate is None:
            return RiskDecision.of(Denied("risk_unknown",
                                          "risk state unknown: no risk gate is configured; nothing is sent"))
        return RiskDecision.of(await run_gate(self.risk_gate, order, price))

    async def _price(self, order: OrderRequest) -> Decimal | None:
        if order.order_class is OrderClass.MULTILEG:
            return None
        try:
            return await self.require_broker().quote_price(order.option_symbol or order.symbol)
        except CoreError as exc:
            log.warning("orders.quote_failed", symbol=order.symbol, error=exc.message)
            return None

    async def audit(self, session: AsyncSession, row: OrderIntentRow, status: str, actor: str, detail: str, *,
                    echo: dict[str, Any] | None = None) -> None:
        body = f"{status}: {describe(row.action, row.order, row.target_order_id)}"
        if detail:
            body += f" - {detail}"
        if echo is not None:
            body += f"\nbroker echo: {orjson.dumps(echo, default=str).decode()}"
        order = row.order.get("result", row.order) if row.action == "replace" else row.order
        await self._journal(session, body=body[:20_000], symbol=order.get("symbol"),
                            tags=["order", status.lower(), row.action], rationale=row.rationale,
                            order_id=row.broker_order_id or row.target_order_id or row.id, actor=actor)

    async def _journal(self, session: AsyncSession, **values: Any) -> None:
        """An `order` journal entry, written in the caller's transaction as one INSERT (nothing is read back)."""
        now = self._now()
        await JournalRepository(session).insert(
            {"id": new_id(), "kind": "order", "plan": None, **values, "created_at": now, "updated_at": now})

    async def move(self, row: OrderIntentRow, from_status: str | Sequence[str], to_status: str, actor: str,
                    detail: str, *, echo: dict[str, Any] | None = None, **values: Any) -> bool:
        """CAS transition + audit entry in one transaction, then publish; False if another caller moved it first.
        Durable when it leaves PENDING (see the module docstring)."""
        leaves_pending = "PENDING" in ((from_status,) if isinstance(from_status, str) else from_status)
        async with self.db.uow(durable=leaves_pending) as session:
            if not await OrderIntentRepository(session).transition(row.id, from_status, to_status, **values):
                return False
            row.status = to_status
            for name, value in values.items():
                setattr(row, name, value)
            await self.audit(session, row, to_status, actor, detail, echo=echo)
        self.publish_soon()
        return True

    async def _get(self, intent_id: str) -> OrderIntentRow:
        if not intent_id or len(intent_id) > 32 or not intent_id.isalnum():
            raise NotFound(f"order intent {intent_id[:40]!r} does not exist")
        async with self.db.read() as session:
            row = await OrderIntentRepository(session).get(intent_id)
        if row is None:
            raise NotFound(f"order intent {intent_id} does not exist")
        return row

    def _view(self, row: OrderIntentRow) -> Intent:
        return intent_view(row, self.mode)

    async def get_intent(self, intent_id: str) -> Intent:
        return self._view(await self._get(intent_id))

    async def publish_orders(self) -> None:
        """Publish `orders` (today's blotter) now. Transitions use `publish_soon` instead."""
        try:
            await self.bus.publish(OrdersEvent(items=await self.account.orders_snapshot()))
        except Exception as exc:  # the transition is committed; a failed publish must not undo it
            log.warning("orders.publish_failed", error=str(exc))

    def publish_soon(self) -> None:
        """Publish `orders` after the caller's transition, off its path; changes made meanwhile are coalesced
        into one snapshot, which is always read after the last of them committed."""
        self._dirty = True
        if self._publisher is None or self._publisher.done():
            self._publisher = asyncio.create_task(self._publish_pending(), name="orders-publish")

    async def _publish_pending(self) -> None:
        await asyncio.sleep(self.publish_delay)  # let the rest of a confirm (SUBMITTING -> SUBMITTED) land first
        while self._dirty:
            self._dirty = False
            await self.publish_orders()

    async def aclose(self) -> None:
        """Let a pending `orders` publish finish (bounded), so the last change is not lost on shutdown."""
        if self._publisher is not None and not self._publisher.done():
            try:
                await asyncio.wait_for(self._publisher, timeout=2.0)
            except (TimeoutError, asyncio.CancelledError):
                log.warning("orders.publish_abandoned")

    # -- propose ---------------------------------------------------------------------------------------

    async def _store(self, actor: str, action: str, order: dict[str, Any], *, target: str | None,
                     preview: PreviewView | None, risk: RiskDecision, reference: Decimal | None,
                     rationale: str | None, source: str | None) -> ProposeResult:
        now = self._now()
        digest = order_hash(_canonical(action, order, target))
        row = OrderIntentRow(id=new_id(), action=action, actor=actor, status="PENDING", order=order,
                             order_hash=digest, target_order_id=target, preview=document(preview), risk=document(risk),
                             reference_price=reference, rationale=rationale, source=source, created_at=now,
                             expires_at=now + self.confirm_ttl, updated_at=now)
        async with self.db.uow() as session:
            await OrderIntentRepository(session).add(row)
            await self.audit(session, row, "PENDING", actor, f"proposed; risk {risk.decision}: {risk.reason}")
        self.publish_soon()
        token = self.signer.sign(row.id, actor, digest, row.expires_at)
        return ProposeResult(self._view(row), preview, risk, token, self.mode)

    async def _denied(self, actor: str, action: str, order: dict[str, Any], risk: RiskDecision,
                      rationale: str | None) -> ProposeResult:
        async with self.db.uow() as session:
            await self._journal(session, body=f"DENIED: {describe(action, order, None)} - {risk.reason}",
                                symbol=order.get("symbol"), tags=["order", "denied", action], rationale=rationale,
                                order_id=None, actor=actor)
        log.info("orders.denied", actor=actor, code=risk.code, reason=risk.reason)
        return ProposeResult(None, None, risk, None, self.mode)

    @staticmethod
    def _check_actor(actor: str) -> None:
        if not actor or len(actor) > 128:
            raise Invalid("actor must be 1-128 characters", details=[{"field": "actor", "message": "required"}])

    async def propose(self, actor: str, order: OrderRequest, *, rationale: str | None = None,
                      source: str | None = None) -> ProposeResult:
        broker = self.require_broker()
        self._check_actor(actor)
        validate_order_request(order)
        reference = await self._price(order)
        risk = await self._risk(order, reference)
        if risk.denied:
            return await self._denied(actor, "place", order.to_dict(), risk, rationale)
        preview = (await broker.preview(order)).view()
        return await self._store(actor, "place", order.to_dict(), target=None, preview=preview, risk=risk,
                                 reference=reference, rationale=rationale, source=source)

    async def _working(self, order_id: str) -> BrokerOrder:
        if not order_id or len(order_id) > 64 or not order_id.replace("-", "").isalnum():
            raise NotFound(f"order {order_id[:40]!r} does not exist at the broker")
        try:
            existing = await self.require_broker().order(order_id)
        except ExternalPermanent as exc:  # Tradier answers some unknown ids with 400 "Order not found"
            raise NotFound(f"order {order_id} does not exist at the broker ({exc.message})") from exc
        if not existing.is_working:
            raise Conflict(f"order {order_id} is {existing.status}; only working orders can be changed or cancelled")
        return existing

    async def propose_cancel(self, actor: str, order_id: str, *, rationale: str | None = None,
                             source: str | None = None) -> ProposeResult:
        """Cancelling never adds exposure, so it skips the preview and is approved by the risk gate's rules."""
        self.require_broker()
        self._check_actor(actor)
        existing = await self._working(order_id)
        return await self._store(actor, "cancel", document(BrokerOrderView.of(existing)), target=order_id,
                                 preview=None, risk=CANCEL_APPROVED, reference=None, rationale=rationale,
                                 source=source)

    async def propose_replace(self, actor: str, order_id: str, changes: dict[str, Any], *,
                              rationale: str | None = None, source: str | None = None) -> ProposeResult:
        """Change type/duration/price/stop of a working order; the resulting order passes the risk gate."""
        self.require_broker()
        self._check_actor(actor)
        existing = await self._working(order_id)
        result = OrderRequest(
            symbol=existing.symbol, side=existing.side, quantity=existing.remaining_quantity or existing.quantity,
            type=OrderType(changes.get("type", existing.type)),
            duration=OrderDuration(changes.get("duration") or existing.duration or OrderDuration.DAY),
            order_class=OrderClass.OPTION if existing.option_symbol else OrderClass.EQUITY,
            price=Decimal(changes["price"]) if "price" in changes else existing.price,
            stop=Decimal(changes["stop"]) if "stop" in changes else existing.stop,
            option_symbol=existing.option_symbol)
        if result.type is OrderType.MARKET:
            result = replace(result, price=None, stop=None)
        elif result.type is OrderType.STOP:
            result = replace(result, price=None)
        elif result.type is OrderType.LIMIT:
            result = replace(result, stop=None)
        validate_order_request(result)
        change = {"changes": changes, "result": result.to_dict(),
                  "original": document(BrokerOrderView.of(existing))}
        reference = await self._price(result)
        risk = await self._risk(result, reference)
        if risk.denied:
            return await self._denied(actor, "replace", result.to_dict(), risk, rationale)
        return await self._store(actor, "replace", change, target=order_id, preview=None, risk=risk,
                                 reference=reference, rationale=rationale, source=source)

    async def cancel_intent(self, intent_id: str, actor: str) -> Intent:
        """The proposer changes their mind: PENDING -> CANCELLED (nothing was or will be sent)."""
        row = await self._get(intent_id)
        if row.actor != actor:
            raise Forbidden("this order was proposed by someone else; it is not yours to cancel")
        if not await self.move(row, "PENDING", "CANCELLED", actor, "cancelled before confirmation"):
            fresh = await self._get(intent_id)
            raise Conflict(f"already handled: this order is {fresh.status}", details={"status": fresh.status})
        return self._view(row)

    # -- confirm ---------------------------------------------------------------------------------------

    async def confirm(self, intent_id: str, token: str, actor: str) -> ConfirmResult:
        broker = self.require_broker()
        if actor not in self.traders:
            raise Forbidden(f"'{actor}' may not confirm orders: only the users listed in TRADERS can "
                            "(e.g. TRADERS=api,discord:<user id>,slack:<team>:<user>)")
        row = await self._get(intent_id)
        if not isinstance(token, str) or not self.signer.verify(token, row.id, row.actor, row.order_hash,
                                                                 row.expires_at):
            raise Forbidden("the confirm token is not valid for this order; use the one returned by the proposal")
        if row.actor != actor:
            raise Forbidden("this order was proposed by someone else; it is not yours to confirm")
        if order_hash(_canonical(row.action, row.order, row.target_order_id)) != row.order_hash:
            raise Forbidden("the stored order no longer matches what was proposed; propose it again")
        if row.status != "PENDING":
            raise Conflict(f"already handled: this order is {row.status}", details={"status": row.status})
        now = self._now()
        if row.expires_at <= now:
            await self.move(row, "PENDING", "EXPIRED", actor, "confirmation came after the intent expired")
            raise Expired(f"this order expired at {row.expires_at.isoformat()} "
                          f"(confirm within {int(self.confirm_ttl.total_seconds())} s); propose it again")
        async with self.db.uow(durable=True) as session:
            if not await OrderIntentRepository(session).transition(row.id, "PENDING", "SUBMITTING",
                                                                   not_expired_at=now):
                raise Conflict("already handled: this order was confirmed, cancelled or expired meanwhile")
            row.status = "SUBMITTING"
            await self.audit(session, row, "SUBMITTING", actor, "confirmed")
        self.publish_soon()
        return await self._submit(broker, row, actor)

    async def _recheck(self, row: OrderIntentRow, order: OrderRequest | None) -> tuple[str, str] | None:
        """(code, reason) to abort on, or None: risk again, then the price against the one at the preview."""
        if order is None:  # cancel
            return None
        fresh = await self._price(order)
        risk = await self._risk(order, fresh)
        if risk.denied:
            return risk.code or "risk_denied", risk.reason
        if row.reference_price is None or row.action != "place":
            return None
        if fresh is None:
            return "no_quote", "no fresh quote to check the price against the preview; propose it again"
        moved = abs(fresh - row.reference_price) / row.reference_price * 10_000
        if moved > self.max_slippage_bps:
            return "price_moved", (f"price moved {moved.quantize(Decimal('0.1'))} bps since the preview "
                                   f"({row.reference_price} -> {fresh}), above the {self.max_slippage_bps} bps "
                                   "limit; propose it again")
        return None

    def _order_of(self, row: OrderIntentRow) -> OrderRequest | None:
        if row.action == "place":
            return parse_order(row.order)
        if row.action == "replace":
            return parse_order(row.order["result"])
        return None

    async def _send(self, broker: Broker, row: OrderIntentRow, order: OrderRequest | None) -> OrderAck:
        target = row.target_order_id or ""
        if row.action == "cancel":
            return await broker.cancel(target)
        if row.action == "replace":
            changes = row.order["changes"]
            return await broker.modify(
                target, type=OrderType(changes["type"]) if "type" in changes else None,
                duration=OrderDuration(changes["duration"]) if "duration" in changes else None,
                price=Decimal(changes["price"]) if "price" in changes else None,
                stop=Decimal(changes["stop"]) if "stop" in changes else None)
        assert order is not None
        return await broker.place(order, tag=row.id)

    async def _submit(self, broker: Broker, row: OrderIntentRow, actor: str) -> ConfirmResult:
        try:
            order = self._order_of(row)
            abort = await self._recheck(row, order)
        except CoreError as exc:
            abort = ("invalid", exc.message)
        if abort is not None:
            await self.move(row, "SUBMITTING", "ABORTED", actor, abort[1], error=abort[1])
            return ConfirmResult(self._view(row), "aborted", abort[1], abort[0])
        try:
            ack = await self._send(broker, row, order)
        except OrderOutcomeUnknown as exc:
            await self.move(row, "SUBMITTING", "UNKNOWN", actor, f"{exc.message}; looking it up by tag",
                             error=exc.message)
            return await self.resolve_unknown(row.id)
        except (ExternalPermanent, NotFound) as exc:
            await self.move(row, "SUBMITTING", "REJECTED", actor, f"broker rejected: {exc.message}",
                             error=exc.message, echo={"errors": exc.details})
            return ConfirmResult(self._view(row), "rejected", exc.message, "rejected")
        except CoreError as exc:  # not sent (connect failure, 429, credentials): nothing at the broker
            await self.move(row, "SUBMITTING", "FAILED", actor, f"not sent: {exc.message}", error=exc.message)
            return ConfirmResult(self._view(row), "failed", f"not sent: {exc.message}; propose it again", exc.code)
        except Exception as exc:  # we cannot tell whether it went out: treat as unknown, never resend
            log.error("orders.send_crashed", intent_id=row.id, exc_info=exc)
            await self.move(row, "SUBMITTING", "UNKNOWN", actor, f"unexpected {type(exc).__name__} while sending",
                             error=type(exc).__name__)
            return await self.resolve_unknown(row.id)
        echo = {"ack": {"id": ack.id, "status": ack.status, "tag": ack.tag, "partner_id": ack.partner_id}}
        await self.settle(row, "SUBMITTING", actor, ack.id, echo=echo, found=None)
        return ConfirmResult(self._view(row), "submitted")

    async def settle(self, row: OrderIntentRow, from_status: str, actor: str, broker_id: str, *,
                     echo: dict[str, Any], found: BrokerOrder | None) -> bool:
        """-> SUBMITTED with the broker id; a placed order's echo is stored in `orders` in the same transaction."""
        async with self.db.uow() as session:
            values: dict[str, Any] = {"error": None}
            if row.action == "place":
                values["broker_order_id"] = broker_id
            if not await OrderIntentRepository(session).transition(row.id, from_status, "SUBMITTED", **values):
                return False
            row.status = "SUBMITTED"
            for name, value in values.items():
                setattr(row, name, value)
            repo = OrderRepository(session)
            if row.action == "place":
                order = row.order
                payload = document(BrokerOrderView.of(found)) if found else {**order, **echo}
                await repo.upsert(
                    broker_id, intent_id=row.id, symbol=order["symbol"], side=order["side"],
                    quantity=Decimal(order["quantity"]), type=order["type"],
                    status=found.status if found else str(echo.get("ack", {}).get("status", "ok")), tag=row.id,
                    manual=False, payload=payload, keep_existing=found is None)
            how = "found at the broker by tag" if found is not None and row.action == "place" else "accepted"
            await self.audit(session, row, "SUBMITTED", actor, f"{how}: broker order {broker_id}", echo=echo)
        self.publish_soon()
        return True

    # -- unknown outcomes ------------------------------------------------------------------------------

    async def lookup(self, row: OrderIntentRow) -> BrokerOrder | None:
        """What the broker did with this intent, when it tells: the tagged order, or the cancelled/modified one."""
        broker = self.require_broker()
        if row.action == "place":
            return await broker.find_order_by_tag(row.id)
        target = await broker.order(row.target_order_id or "")
        if row.action == "cancel":
            return target if target.status in CANCELED else None
        changes = row.order.get("changes", {})
        for name in ("price", "stop"):
            if name in changes and getattr(target, name) != Decimal(changes[name]):
                return None
        if "type" in changes and target.type.value != changes["type"]:
            return None
        return target

    async def resolve_unknown(self, intent_id: str, *, alert: bool = True) -> ConfirmResult:
        """Poll the broker with backoff (<= resolve window) for what happened; never send again."""
        row = await self._get(intent_id)
        for delay in backoff(self.resolve_window):
            await self._sleep(delay)
            try:
                found = await self.lookup(row)
            except CoreError as exc:
                log.warning("orders.lookup_failed", intent_id=row.id, error=exc.message)
                continue
            if found is not None:
                if await self.settle(row, "UNKNOWN", "system", found.id, echo=document(BrokerOrderView.of(found)),
                                     found=found):
                    return ConfirmResult(self._view(row), "submitted")
                row = await self._get(intent_id)  # resolved by someone else (the tracker) meanwhile
                return ConfirmResult(self._view(row), "submitted" if row.status == "SUBMITTED" else "unknown")
        return await self.still_unknown(row, alert=alert)

    async def still_unknown(self, row: OrderIntentRow, *, alert: bool = True) -> ConfirmResult:
        reason = (f"the broker did not answer and no order tagged {row.id} was found after "
                  f"{self.resolve_window:g} s; it was NOT resent. Check the broker before trying again.")
        async with self.db.uow() as session:
            await self.audit(session, row, "UNKNOWN", "system", reason)
        if alert:
            await self.bus.publish(AlertEvent(
                level="critical", msg=f"Order outcome unknown: {describe(row.action, row.order, row.target_order_id)}"
                                      f" - {reason}",
                meta=AlertMeta(kind="order_unknown", intent_id=row.id, symbol=row.order.get("symbol"))))
        log.error("orders.outcome_unknown", intent_id=row.id)
        return ConfirmResult(self._view(row), "unknown", reason, "order_outcome_unknown")
