"""Desk routes for a case's remedy: its outcomes and its remedy state.

``POST /cases/{id}/outcomes`` records an outcome (kind, amount and currency for money, workers
covered, how it was verified); resolving the case with one goes through ``/cases/{id}/update``
(intake/desk/cases.py, :func:`outcome_from_form`);
``POST /cases/{id}/outcomes/{oid}/remove`` takes one back. A CAP step's outcome is set when it is
marked done (intake/desk/actions.py, with :func:`outcome_from_form`). Every change is audited.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

from babel.numbers import get_currency_name, list_currencies
from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

import i18n
from i18n import D_, d_
from intake import clock
from intake.desk.http import current, form_of, page
from intake.desk.sessions import Session
from intake.domain import RemedyKind, RemedyOutcome, RemedyState, Verification
from intake.errors import InvalidInput
from intake.remedy import parse_outcome
from intake.store.casework import CaseWork
from intake.store.remedy import CaseRemedy

router = APIRouter()

KIND_LABELS: dict[str, str] = {
    RemedyKind.BACK_PAY: D_("Back pay"),
    RemedyKind.OVERTIME_PAY: D_("Overtime pay"),
    RemedyKind.SOCIAL_INSURANCE: D_("Social insurance paid"),
    RemedyKind.REINSTATEMENT: D_("Reinstatement"),
    RemedyKind.RECRUITMENT_FEES_REPAID: D_("Recruitment fees repaid"),
    RemedyKind.DOCUMENTS_RETURNED: D_("Documents returned"),
    RemedyKind.SAFETY_FIX: D_("Safety fix"),
    RemedyKind.HOURS_REDUCED: D_("Hours reduced"),
    RemedyKind.INJURY_COMPENSATION: D_("Injury compensation"),
    RemedyKind.DISCIPLINARY_OR_APOLOGY: D_("Disciplinary action or apology"),
    RemedyKind.POLICY_CHANGE: D_("Policy change"),
    RemedyKind.OTHER: D_("Other"),
}
VERIFIED_LABELS: dict[str, str] = {
    Verification.WORKER: D_("by the worker"),
    Verification.DOCUMENT: D_("by document"),
    Verification.GROUP_VISIT: D_("by the group's visit"),
    Verification.PARTNER: D_("by the partner"),
    Verification.NOT_VERIFIED: D_("not verified"),
}
STATE_LABELS: dict[str, str] = {
    RemedyState.IN_REMEDY: D_("remedy in progress"),
    RemedyState.RESOLVED_UNCONFIRMED: D_("resolved, not confirmed"),
    RemedyState.RESOLVED_CONFIRMED: D_("resolved, confirmed by the worker"),
    RemedyState.DISPUTED: D_("disputed by the worker"),
}
# What is wrong with an outcome, by field and code (intake.remedy.parse_outcome).
PROBLEMS: dict[tuple[str, str], str] = {
    ("kind", "missing"): D_("Choose what kind of remedy it was."),
    ("kind", "invalid"): D_("Choose what kind of remedy it was."),
    ("kind", "too_many"): D_("This case already has as many outcomes as it can hold (50)."),
    ("amount", "negative"): D_("The amount cannot be negative."),
    ("amount", "not_a_number"): D_(
        "Write the amount with digits and at most one dot, without thousands separators: 1500000 or 1500.50."
    ),
    ("amount", "too_large"): D_("The amount is too large."),
    ("amount", "not_money"): D_("Only a payment has an amount: leave it empty for this kind of remedy."),
    ("currency", "missing"): D_("An amount needs its currency: a three-letter code such as CNY, VND or USD."),
    ("currency", "unknown"): D_("Unknown currency: use a three-letter ISO 4217 code such as CNY, VND or USD."),
    ("workers_covered", "invalid"): D_("Workers covered must be a whole number from 1."),
    ("verified_by", "invalid"): D_("Choose how the remedy was verified."),
}


def outcome_from_form(form: Any) -> RemedyOutcome | None:
    """The outcome in a posted form (fields kind, amount, currency, workers_covered, verified_by);
    None when no kind was chosen and nothing else typed; InvalidInput when something is wrong."""
    fields = {k: str(form.get(k) or "").strip() for k in ("kind", "amount", "currency", "workers_covered")}
    if not fields["kind"] and not fields["amount"]:
        return None
    return parse_outcome(
        fields["kind"], fields["amount"], fields["currency"], fields["workers_covered"] or "1",
        str(form.get("verified_by") or ""),
    )  # fmt: skip


def problem_text(exc: InvalidInput) -> str:
    """What is wrong with a refused outcome, in the desk's language, one sentence per field."""
    said = [d_(PROBLEMS[k, v]) for k, v in sorted(exc.fields.items()) if (k, v) in PROBLEMS]
    return " ".join([d_("The outcome was not saved."), *dict.fromkeys(said)])


def outcome_text(o: RemedyOutcome) -> str:
    """One outcome in a line: kind, amount, workers covered, how it was verified."""
    money = f" · {o.amount} {o.currency}" if o.amount is not None else ""
    workers = i18n.dn_("{n} worker", "{n} workers", o.workers_covered).format(n=o.workers_covered)
    return f"{d_(KIND_LABELS[o.kind])}{money} · {workers} · {d_(VERIFIED_LABELS[o.verified_by])}"


def state_label(state: object) -> str:
    key = str(getattr(state, "value", state) or "")
    return d_(STATE_LABELS[key]) if key in STATE_LABELS else ""


def desk_state_label(state: object) -> str:
    """:func:`state_label` beside a case's status on the desk: "" in remedy (the status says it)."""
    return "" if state == RemedyState.IN_REMEDY else state_label(state)


def currencies() -> tuple[tuple[str, str], ...]:
    """(code, name in the desk's language) of every currency, for the form's list."""
    return _currencies(i18n.desk_locale())


@cache  # ~10 ms of Babel lookups per locale: once per process, not once per case page
def _currencies(loc: str) -> tuple[tuple[str, str], ...]:
    out = []
    for code in sorted(list_currencies()):
        try:
            out.append((code, str(get_currency_name(code, locale=loc))))
        except Exception:  # a locale Babel does not know: the code alone
            out.append((code, code))
    return tuple(out)


def case_extra(session: Session, case_id: int) -> dict[str, Any]:
    """What the case page shows of the remedy (no audit entry: the page view has one)."""
    remedy = CaseRemedy(CaseWork(session.store, session.keys))
    with session.store._lock:
        row = session.store._conn.execute(
            "SELECT approved_at FROM relay_reviews WHERE case_id = ? AND approved_hash != ''", (case_id,)
        ).fetchone()
    return {
        "outcomes": remedy.outcomes(case_id),
        "remedy_state": desk_state_label(remedy.states([case_id]).get(case_id)),
        "summary_step_overdue": bool(row) and _late_since(session, case_id, str(row[0])),
        "kind_labels": {k: d_(v) for k, v in KIND_LABELS.items()},
        "verified_labels": {k: d_(v) for k, v in VERIFIED_LABELS.items()},
        "outcome_text": outcome_text,
        "currencies": currencies(),
    }


def _late_since(session: Session, case_id: int, approved_at: str) -> bool:
    """A step of the plan went overdue since the summary was approved: the partner has not been told
    (relay.gate calls this state ``step_overdue``; the coordinator approves the summary again)."""
    try:
        approved_on = date.fromisoformat(approved_at[:10])
    except ValueError:
        return False
    today = clock.now().date()
    with session.store._lock:
        row = session.store._conn.execute(
            "SELECT 1 FROM actions WHERE case_id = ? AND done_at = '' AND due >= ? AND due < ? LIMIT 1",
            (case_id, approved_on.isoformat(), today.isoformat()),
        ).fetchone()
    return row is not None


def _refused(session: Session, message: str) -> Response:
    return page("message.html", status=400, session=session, message=message)


@router.post("/cases/{case_id}/outcomes")
async def add_outcome(request: Request, case_id: int) -> Response:
    """Record an outcome on the case (resolving with one goes through ``/cases/{id}/update``)."""
    session = current(request)
    form = await form_of(request, session)
    try:
        outcome = outcome_from_form(form)
        if outcome is None:
            raise InvalidInput("no outcome", fields={"kind": "missing"})
        await run_in_threadpool(CaseRemedy(CaseWork(session.store, session.keys)).add, case_id, outcome)
    except InvalidInput as exc:
        return _refused(session, problem_text(exc))
    return RedirectResponse(f"/cases/{case_id}#remedy", status_code=303)


@router.post("/cases/{case_id}/outcomes/{outcome_id}/remove")
async def remove_outcome(request: Request, case_id: int, outcome_id: int) -> Response:
    session = current(request)
    await form_of(request, session)
    try:
        await run_in_threadpool(CaseRemedy(CaseWork(session.store, session.keys)).remove, case_id, outcome_id)
    except InvalidInput:
        return _refused(session, d_("There is no such outcome on this case."))
    return RedirectResponse(f"/cases/{case_id}#remedy", status_code=303)


__all__ = [
    "KIND_LABELS",
    "STATE_LABELS",
    "VERIFIED_LABELS",
    "case_extra",
    "desk_state_label",
    "outcome_from_form",
    "router",
    "state_label",
]
