"""Desk routes for corrective action plans, and the plan and stage deadline shown on the case page.

``POST /cases/{id}/actions`` adds an action (what, who must act, due date, evidence);
``POST /cases/{id}/actions/{aid}/done`` marks it done, with its remedy outcome if the form has one
(kind, amount, currency, workers_covered, verified_by; intake/desk/remedy.py), or sets the outcome
of a step already done; or marks it not done again with ``undo=1``.
Both need a caseworker's session and the form's CSRF token; every change is audited.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from i18n import D_, d_
from intake import clock
from intake.desk import asking
from intake.desk.http import current, form_of, page
from intake.desk.remedy import outcome_from_form, problem_text
from intake.desk.sessions import Session
from intake.errors import InvalidInput
from intake.settings import Settings
from intake.store.actions import MAX_ACTION, WHO, Actions
from intake.store.casework import CaseWork, overdue_days

router = APIRouter()

WHO_LABELS = {
    "employer": D_("Employer"),
    "brand": D_("Brand"),
    "public_buyer": D_("Public buyer"),
    "labour_group": D_("Labour group"),
}
assert set(WHO_LABELS) == set(WHO)  # noqa: S101 - a label for every code


def case_extra(session: Session, settings: Settings, case_id: int) -> dict[str, Any]:
    """What the case page shows of the plan and the stage deadline (no audit entry: the page view has one)."""
    work = CaseWork(session.store, session.keys)
    now = clock.now()
    deadlines = settings.deadlines()
    stage = work.stages([case_id]).get(case_id)
    return {
        "plan": Actions(work).plan(case_id, now.date()),
        "who_labels": {code: d_(label) for code, label in WHO_LABELS.items()},
        "max_action": MAX_ACTION,
        "stage_since": stage.since if stage else None,
        "stage_target": deadlines.get(stage.status) if stage else None,
        "stage_overdue": overdue_days(stage, deadlines, now) if stage else 0,
    }


def _refused(session: Session, message: str) -> Response:
    return page("message.html", status=400, session=session, message=message)


@router.post("/cases/{case_id}/actions")
async def add_action(request: Request, case_id: int) -> Response:
    session = current(request)
    form = await form_of(request, session)
    plan = Actions(CaseWork(session.store, session.keys))
    try:
        await run_in_threadpool(
            plan.add,
            case_id,
            str(form.get("action") or ""),
            str(form.get("who") or ""),
            str(form.get("due") or ""),
            str(form.get("evidence") or ""),
        )
    except InvalidInput:
        return _refused(
            session,
            d_(
                "The action was not added: it needs a description (at most 500 characters), who must act, "
                "and a due date as YYYY-MM-DD."
            ),
        )
    return RedirectResponse(f"/cases/{case_id}#plan", status_code=303)


@router.post("/cases/{case_id}/actions/{action_id}/done")
async def action_done(request: Request, case_id: int, action_id: int) -> Response:
    session = current(request)
    form = await form_of(request, session)
    plan = Actions(CaseWork(session.store, session.keys))
    done = form.get("undo") != "1"
    try:
        outcome = outcome_from_form(form) if done else None
    except InvalidInput as exc:  # nothing marked done: the step and its outcome go in together
        return _refused(session, problem_text(exc))
    try:
        changed = await run_in_threadpool(plan.set_done, case_id, action_id, done, outcome)
    except InvalidInput:
        return _refused(session, d_("There is no such action on this case."))
    if changed:  # the worker is asked whether it happened (issue 15)
        await run_in_threadpool(asking.after_action, request.app.state.settings, session, case_id, action_id, done)
    return RedirectResponse(f"/cases/{case_id}#plan", status_code=303)


__all__ = ["WHO_LABELS", "case_extra", "router"]
