"""The desk's part of partner messages (issue 15): shown on a case's page, passed on after review.

What partners wrote about a case (``intake.store.partner_messages``, verified by relay/inbound.py)
is listed on its page, with the partner's clock and this node's. A caseworker may pass one on to
the worker, never in the partner's words: choosing a template (``intake.replies.PASS_ON_TEMPLATES``)
opens the case page with the reply box filled in the worker's language (``GET /cases/{id}?template=
KEY&partner_message=N#reply``); what the caseworker then posts goes to the status board like any
reply, and the message is marked as passed on (audited).
"""

from __future__ import annotations

from typing import Any

from i18n import D_, d_
from intake import audit, clock
from intake.desk.sessions import Session
from intake.errors import InvalidInput
from intake.replies import PASS_ON_TEMPLATE_NAMES, PASS_ON_TEMPLATES
from intake.store import partner_messages

KIND_LABELS = {
    "question": D_("Question"),
    "brand_response": D_("Brand's response"),
    "buyer_response": D_("Buyer's response"),
    "escalation_decision": D_("Escalation decision"),
    "update_request": D_("Request for an update"),
}


def case_extra(session: Session, case_id: int) -> dict[str, Any]:
    """What the case page needs to show the case's partner messages."""
    return {
        "partner_messages": partner_messages.for_case(session.store, case_id),
        "partner_kind_labels": {k: d_(v) for k, v in KIND_LABELS.items()},
        "pass_on_templates": [(k, d_(v)) for k, v in PASS_ON_TEMPLATE_NAMES.items()],
        "pass_on_names": {k: d_(v) for k, v in PASS_ON_TEMPLATE_NAMES.items()},
    }


def pass_on_of(values: Any, case_id: int, session: Session) -> dict[str, Any] | None:
    """``{"message": id, "template": key}`` when ``values`` (query or form) name a pass-on of one of
    this case's messages with a known template, else None."""
    key = str(values.get("pass_on_template") or values.get("template") or "")
    number = str(values.get("partner_message") or "")
    if key not in PASS_ON_TEMPLATES or not number.isdigit() or len(number) > 12:
        return None
    if int(number) not in {m.id for m in partner_messages.for_case(session.store, case_id)}:
        return None
    return {"message": int(number), "template": key}


def record_passed_on(session: Session, case_id: int, pass_on: dict[str, Any]) -> None:
    """Mark the message passed on, once the reply made from it was posted for the worker."""
    try:
        partner_messages.passed_on(
            session.store, audit.audit_key(session.keys), user=session.keys.user, case_id=case_id,
            message_id=pass_on["message"], template=pass_on["template"], at=clock.now_s().isoformat(),
        )  # fmt: skip
    except InvalidInput:  # the message is gone (the case was purged meanwhile): the reply stands
        return
