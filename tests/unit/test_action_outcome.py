"""ActionOutcome: the sentence and the JSON a proposal's outcome carries (approved bracket, risk denial)."""

from __future__ import annotations

from decimal import Decimal as D

from core.domain.action_refs import ActionRef, Target
from core.domain.brackets import bracket_order
from core.domain.order_views import RiskDecision
from core.services.action_outcome import ActionOutcome, OutcomeKind
from core.services.orders import ProposeResult

REF = ActionRef(Target.ALERT, "setup", "t1")
OTO = bracket_order("MSFT", long=True, quantity=D(10), entry=D("35.40"), stop=D("34.90"), target=None)


def test_an_approved_bracket_says_its_stop_target_and_1r() -> None:
    proposal = ProposeResult(None, None, RiskDecision("approved", "within every limit"), "token", "PAPER")
    outcome = ActionOutcome.proposed(REF, OTO, proposal)
    assert outcome.kind is OutcomeKind.PROPOSAL
    assert outcome.message == ("Review and confirm buy 10 MSFT limit @ 35.40 (day) with stop 34.90, no target, "
                               "1R = $5.00. Risk: within every limit. Nothing is sent until you confirm.")
    body = outcome.to_dict()
    assert body["bracket"] == {"order_class": "oto", "side": "buy", "quantity": "10", "entry": "35.40",
                               "stop": "34.90", "target": None, "one_r_dollars": "5.00"}
    assert set(body) == {"target", "action", "kind", "message", "proposal", "bracket", "effect", "snoozed_until",
                         "plan"}


def test_a_denial_says_why_and_that_nothing_was_sent() -> None:
    proposal = ProposeResult(None, None, RiskDecision("denied", "Reduce-only: 10/10 trades", code="reduce_only"),
                             None, "PAPER")
    outcome = ActionOutcome.proposed(REF, OTO, proposal)
    assert outcome.message == ("Risk denied buy 10 MSFT limit @ 35.40 (day): Reduce-only: 10/10 trades. "
                               "Nothing was sent.")
    assert outcome.to_dict()["proposal"]["risk"]["decision"] == "denied" and outcome.bracket is not None
