"""One service executes every click, by reference, for every surface (REST, Discord, Slack).

    execute(actor, ref)   actor is a trader (core.domain.access), else Forbidden, before anything is read
                          -> alert chip: re-read the stored trigger, rebuild its chips with the live account
                             (position, risk status, sizer, the trader's R:R) and propose the chip's order;
                             snooze for the chip's own duration; dismiss; a setup that sizes to nothing is a plan
                          -> pick: "take" proposes the setup as a bracket, "alert" sets a price alert at the trigger
                          -> position: the live position's trim / close / breakeven / roll / hedge
                          -> plan: "take" proposes the plan as a bracket sized to 1R

A setup is always taken with its stop: an `otoco` bracket (entry + stop + target) when it has a target, `oto`
(entry + stop) when it has none. Proposals go through `OrderService.propose`: nothing is sent until the trader
confirms the intent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from core.domain.access import check
from core.domain.action_refs import ActionRef, PlanDraft, Target
from core.domain.actions import ActionContext, ActionKind, next_actions, risk_sizer
from core.domain.brackets import bracket_order
from core.domain.orders import OrderType
from core.domain.pick_views import PickView
from core.domain.plans import Side
from core.errors import Conflict, Invalid
from core.services.action_outcome import ActionOutcome, OutcomeKind
from core.services.alerts import AlertService, StoredFire
from core.services.orders import OrderService
from core.services.picks import PicksService
from core.services.plans import PlanService, invalid_from_issues
from core.services.position_orders import PositionOrders
from core.services.risk import RiskService, limits_from


class ActionService:
    def __init__(self, *, traders: Sequence[str], orders: OrderService, alerts: AlertService, risk: RiskService,
                 plans: PlanService, picks: PicksService, positions: PositionOrders) -> None:
        self.traders = frozenset(traders)
        self._orders, self._alerts, self._risk, self._plans = orders, alerts, risk, plans
        self._picks, self._positions = picks, positions

    async def execute(self, actor: str, ref: ActionRef, *, source: str) -> ActionOutcome:
        """Run the click `ref` for `actor`; `source` (the surface) is kept with any order intent."""
        check(ref.access, actor, self.traders)
        if ref.target is Target.ALERT:
            return await self._chip(actor, ref, source)
        if ref.target is Target.PICK:
            return await self._pick(actor, ref, source)
        if ref.target is Target.POSITION:
            return await self._positions.execute(actor, ref, source=source)
        assert ref.plan is not None
        return await self._plan(actor, ref, ref.plan, source)

    # -- alert chips -------------------------------------------------------------------------------------------

    async def _chip(self, actor: str, ref: ActionRef, source: str) -> ActionOutcome:
        stored = await self._alerts.stored_fire(ref.id)
        chip = stored.chip(ref.action)
        if chip is None:
            offered = ", ".join(c.id for c in stored.chips) or "nothing"
            raise Invalid(f"alert trigger {ref.id} has no {ref.action[:40]!r} action; it offers {offered}",
                          details={"field": "action"})
        alert_id = stored.fired.alert.id
        if chip.kind is ActionKind.SNOOZE:
            seconds = chip.snooze_sec
            minutes = max(1, seconds // 60) if seconds is not None and seconds > 0 else 1
            alert = await self._alerts.snooze(alert_id, minutes=minutes)
            assert alert.snoozed_until is not None
            return ActionOutcome(ref.target, ref.action, OutcomeKind.SNOOZED,
                                 f"{stored.fired.alert.spec.symbol} alert snoozed for {minutes} minutes.",
                                 snoozed_until=datetime.fromisoformat(alert.snoozed_until))
        if chip.kind is ActionKind.DISMISS:
            await self._alerts.dismiss(alert_id)
            return ActionOutcome(ref.target, ref.action, OutcomeKind.DISMISSED,
                                 f"{stored.fired.alert.spec.symbol} alert dismissed.")
        if chip.kind is ActionKind.PLAN and chip.plan is not None:
            return _plan_outcome(ref, chip.plan, "Open the planner with this setup.")
        return await self._chip_order(actor, ref, stored, chip.label, source)

    async def _chip_order(self, actor: str, ref: ActionRef, stored: StoredFire, label: str,
                          source: str) -> ActionOutcome:
        """The chip's order rebuilt from the fire and the live account (the card may be stale)."""
        self._orders.require_broker()
        symbol = stored.fired.alert.spec.symbol
        state, account = await self._risk.current()
        tunables = await self._plans.tunables()
        position = next((p for p in account.positions if p.symbol == symbol and p.quantity), None)
        context = ActionContext(position=position, risk_status=state.status, broker_configured=True,
                                size=risk_sizer(limits_from(tunables), account.balances.equity,
                                                account.balances.buying_power, symbol),
                                reward_risk=tunables.default_rr)
        chips = next_actions(stored.fired, context)
        rebuilt = next((c for c in chips if c.id == ref.action), None)
        if rebuilt is None or rebuilt.order is None:
            planned = next((c for c in chips if c.kind is ActionKind.PLAN and c.plan is not None), None)
            if planned is not None and planned.plan is not None:
                return _plan_outcome(ref, planned.plan,
                                     "The risk budget buys nothing at this entry and stop right now: open the "
                                     "planner with this setup.")
            raise Conflict(f"'{label}' no longer applies to this {symbol} alert: the position or the risk state "
                           f"changed since it fired (risk {state.status})", details={"trigger_id": ref.id})
        proposal = await self._orders.propose(actor, rebuilt.order, rationale=f"alert chip {label}", source=source)
        return ActionOutcome.proposed(ref, rebuilt.order, proposal)

    # -- picks -------------------------------------------------------------------------------------------------

    async def _pick(self, actor: str, ref: ActionRef, source: str) -> ActionOutcome:
        pick = await self._picks.active(ref.id)
        if ref.action == "alert":
            condition = "price_above" if pick.direction == "long" else "price_below"
            note = f"pick {pick.id}: {pick.setup_label} {pick.direction} trigger, stop {pick.stop}"
            alert = await self._alerts.create({"symbol": pick.symbol, "condition": condition,
                                               "level": pick.trigger, "note": note}, actor=actor)
            where = "above" if condition == "price_above" else "below"
            return ActionOutcome(ref.target, ref.action, OutcomeKind.ALERT_CREATED,
                                 f"Alert created: {pick.symbol} {where} {alert.level} (alert {alert.id}).",
                                 alert=alert)
        return await self._take_pick(actor, ref, pick, source)

    async def _take_pick(self, actor: str, ref: ActionRef, pick: PickView, source: str) -> ActionOutcome:
        """Entry at the trigger (a stop order while forming, a limit once triggered), the stop, and the first
        target, sized by the sizing service."""
        size = pick.size
        if size is None or not size.quantity:
            raise Conflict(f"pick {ref.id} cannot be sized: {pick.size_note or 'quantity is 0'}")
        targets = pick.targets
        order = bracket_order(pick.symbol, long=pick.direction == "long", quantity=Decimal(size.quantity),
                              entry=Decimal(pick.trigger), stop=Decimal(pick.stop),
                              target=Decimal(targets[0]) if targets else None,
                              entry_type=OrderType.STOP if pick.status == "forming" else OrderType.LIMIT)
        rationale = f"Pick {pick.id}: {pick.why} Confidence {pick.confidence.score:.2f}."
        proposal = await self._orders.propose(actor, order, rationale=rationale, source=source)
        return ActionOutcome.proposed(ref, order, proposal)

    # -- plans -------------------------------------------------------------------------------------------------

    async def _plan(self, actor: str, ref: ActionRef, draft: PlanDraft, source: str) -> ActionOutcome:
        """A limit entry at the plan's entry with its stop (and first target), sized to risk 1R."""
        self._orders.require_broker()
        check_ = await self._plans.validate(side=draft.side, entry=draft.entry, stop=draft.stop,
                                            targets=list(draft.targets), symbol=draft.symbol)
        plan = check_.result.plan
        if not check_.result.ok or plan is None:
            raise invalid_from_issues(check_.result.errors, "plan")
        if not plan.symbol:
            raise Invalid("a plan needs a symbol to be taken", details={"field": "symbol"})
        sized = await self._plans.size(entry=plan.entry, stop=plan.stop, symbol=plan.symbol)
        sizing = sized.result.sizing
        if sizing is None or sizing.quantity < 1:
            raise Invalid(f"the risk budget buys no {plan.symbol} at entry {plan.entry} with stop {plan.stop}: "
                          f"{sized.result.summary}", details={"field": "quantity"})
        order = bracket_order(plan.symbol, long=plan.side is Side.LONG, quantity=Decimal(sizing.quantity),
                              entry=plan.entry, stop=plan.stop, target=plan.targets[0] if plan.targets else None)
        proposal = await self._orders.propose(
            actor, order, source=source,
            rationale=f"plan {plan.side.value} {plan.symbol} entry {plan.entry} stop {plan.stop} (1R)")
        return ActionOutcome.proposed(ref, order, proposal)


def _plan_outcome(ref: ActionRef, plan: PlanDraft, message: str) -> ActionOutcome:
    return ActionOutcome(ref.target, ref.action, OutcomeKind.PLAN, message, plan=plan)
