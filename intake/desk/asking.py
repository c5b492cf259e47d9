"""The desk asks the worker (issue 15): "did it happen?" after remedy, and retaliation check-ins.

The case routes call these after a change is saved:

- a corrective action marked done asks "Has this happened: {what}?" about that step; marked not
  done again, its question is withdrawn;
- a case resolved asks it about the case (its one kind of remedy, else "the remedy agreed");
- a case closed (resolved, closed without remedy, withdrawn) gets retaliation check-ins at the days
  the group set (``retaliation_checkin_days``), due that many days later; reopened, the waiting
  case questions are withdrawn (closing again asks anew).

Each question goes into cases.db (``worker_questions``, audited) and onto the worker's status board
in inbox.db, which a desk paired with a remote intake pushes there at its next drain. Where the
worker agreed to be contacted and an SMS provider is set up, a "did it happen?" question is also
texted to them, and their reply ("1", "2", "3") is taken for SMS_REPLY_DAYS; a case's contact is
read before it is resolved, since closing shreds it. Check-ins are never texted: by then the number
is gone; the worker meets them on the status page or when checking status by SMS.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any, Protocol

from channels.sms.service import SmsChannel
from channels.voice.callback_token import call_body, seal_token
from crypto import NodeKeys
from i18n import D_, d_
from intake import clock
from intake.answers import SMS_REPLY_DAYS, post_questions, withdraw_questions
from intake.domain import CaseStatus
from intake.questions import QuestionKind, sms_text
from intake.services import IntakeService
from intake.settings import Settings
from intake.store.answers import NewQuestion, WorkerQuestions
from intake.store.board_questions import PostedQuestion
from intake.store.cases import CasesStore
from intake.store.casework import CLOSED, CaseWork


class Session(Protocol):
    """What asking needs of a desk session (intake/desk/sessions.py): its cases store and keys."""

    @property
    def store(self) -> CasesStore: ...

    @property
    def keys(self) -> NodeKeys: ...


KIND_LABELS = {
    QuestionKind.CONFIRM: D_("Did it happen?"),
    QuestionKind.RETALIATION: D_("Retaliation check-in"),
}
ANSWER_LABELS = {"yes": D_("yes"), "partly": D_("partly"), "no": D_("no")}


def sms_provider(settings: Settings) -> str | None:
    """The provider replies go out through (as intake/desk/cases.py decides for replies)."""
    if settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_number:
        return "twilio"
    if settings.smssync_secret:
        return "smssync"
    return None


def contact_phone(session: Session, case_id: int) -> str:
    """The worker's number where they agreed to be contacted (read before a change shreds it)."""
    contact = CaseWork(session.store, session.keys).contact(case_id)
    return contact[0] if contact and contact[0] else ""


def after_status(settings: Settings, session: Session, case_id: int, status: CaseStatus, phone: str = "") -> None:
    """Ask or withdraw after the case moved to ``status`` (see the module's docstring)."""
    work = CaseWork(session.store, session.keys)
    asked = WorkerQuestions(work)
    receipt = session.store.receipt_hash(case_id)
    if receipt is None:  # no status board to ask on (a case with no receipt)
        return
    waiting = [q for q in asked.for_case(case_id) if not q.answered_at and not q.withdrawn and q.action_id is None]
    stale = [q.id for q in waiting if status not in CLOSED or q.kind == QuestionKind.RETALIATION or
             (status == CaseStatus.RESOLVED and q.kind == QuestionKind.CONFIRM)]  # fmt: skip
    new: list[NewQuestion] = []
    now = clock.now_s()
    if status == CaseStatus.RESOLVED:
        new.append(NewQuestion(_new_id(), QuestionKind.CONFIRM, asked.confirm_subject(case_id), now))
    if status in CLOSED:
        new += [
            NewQuestion(_new_id(), QuestionKind.RETALIATION, "", now + timedelta(days=days))
            for days in settings.checkin_days()
        ]
    _apply(settings, session, asked, case_id, bytes(receipt), stale, new, phone, "case_moved")


def after_action(settings: Settings, session: Session, case_id: int, action_id: int, done: bool) -> None:
    """Ask about a step just marked done (or its corrected outcome); withdraw when marked not done."""
    work = CaseWork(session.store, session.keys)
    asked = WorkerQuestions(work)
    receipt = session.store.receipt_hash(case_id)
    if receipt is None:
        return
    stale = asked.pending(case_id, QuestionKind.CONFIRM, action_id)
    new = []
    phone = ""
    if done:
        subject = asked.confirm_subject(case_id, action_id)
        new.append(NewQuestion(_new_id(), QuestionKind.CONFIRM, subject, clock.now_s(), action_id))
        phone = contact_phone(session, case_id)
    _apply(settings, session, asked, case_id, bytes(receipt), stale, new, phone, "step_changed")


def _apply(
    settings: Settings, session: Session, asked: WorkerQuestions, case_id: int, receipt: bytes,
    stale: list[str], new: list[NewQuestion], phone: str, reason: str,
) -> None:  # fmt: skip
    if not stale and not new:
        return
    asked.withdraw(case_id, stale, reason)
    asked.record(case_id, new)
    push = bool(settings.desk_remote_url)  # a desk paired with a remote intake pushes these there
    provider = sms_provider(settings) if phone else None
    texted = next((q for q in new if q.kind == QuestionKind.CONFIRM), None) if provider else None
    locale = session.store.get_case(case_id).locale if texted is not None else ""
    until = int((clock.now() + timedelta(days=SMS_REPLY_DAYS)).timestamp())
    service = IntakeService.open(settings)
    try:
        channel = SmsChannel(service) if texted is not None else None
        reporter = channel.reporter(phone) if channel is not None else None
        posted = [
            PostedQuestion(q.id, receipt, q.kind.value, q.subject, int(q.due_at.timestamp()),
                           reporter=reporter if q is texted else None, reporter_until=until if q is texted else 0,
                           locale=locale if q is texted else "")
            for q in new
        ]  # fmt: skip
        withdraw_questions(service.inbox, stale, push=push)
        post_questions(service.inbox, posted, push=push)
        if channel is not None and texted is not None and provider is not None:
            # After the question is on the board (and, paired, pushed before the SMS): the worker's
            # reply from this number is then taken as the answer.
            recipient, body = channel.seal_recipient(phone, sms_text(texted.kind, texted.subject, locale))
            service.inbox.queue(provider, recipient, body, push=push)
            if provider == "twilio" and settings.voice_callback:
                # The same question by a call-back too (docs/worker-questions.md), placed by `intake sms pull`.
                call = call_body(seal_token(settings, texted.id, locale))
                service.inbox.queue(provider, *channel.seal_recipient(phone, call), push=push)
    finally:
        service.close()


def _new_id() -> str:
    return secrets.token_urlsafe(12)


def case_extra(session: Session, case_id: int) -> dict[str, Any]:
    """What the case page shows: the questions put to the worker and their answers, and the case a
    retaliation case was opened from (no audit entry: the page view has one)."""
    asked = WorkerQuestions(CaseWork(session.store, session.keys))
    return {
        "worker_questions": asked.for_case(case_id),
        "retaliation_of": asked.retaliation_of(case_id),
        "question_kind_labels": {k.value: d_(v) for k, v in KIND_LABELS.items()},
        "answer_labels": {k: d_(v) for k, v in ANSWER_LABELS.items()},
        "now": clock.now(),
    }


__all__ = ["after_action", "after_status", "case_extra", "contact_phone", "sms_provider"]
