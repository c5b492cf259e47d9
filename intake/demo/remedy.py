"""``intake demo``, the loop closed (issue 15): one sample case goes new -> remedy -> resolved with an
outcome, through the same case work the desk does, and its worker's status page asks whether it
happened. Open the status page with that receipt and answer; the desk's next drain takes it.

And the retaliation watch: another case is closed, and its worker answers a check-in "yes" through
the JSON API, which opens a linked, urgent retaliation case at the next drain. (A real check-in is due
``retaliation_checkin_days`` after closing; the demo asks one due at once, so it can be seen today.)
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal

import httpx

from crypto import NodeKeys
from intake import clock
from intake.answers import post_questions
from intake.desk.asking import after_status
from intake.domain import CaseStatus, ReceiptCode, RemedyKind, RemedyOutcome, Verification
from intake.drain import drain
from intake.node import open_cases, open_inbox
from intake.questions import QuestionKind
from intake.receipts import parse_receipt
from intake.services import IntakeService
from intake.settings import Settings
from intake.store.answers import NewQuestion, WorkerQuestions
from intake.store.board_questions import PostedQuestion
from intake.store.cases import CasesStore
from intake.store.casework import BOARD, CaseWork
from intake.store.remedy import CaseRemedy

STEPS = (CaseStatus.TRIAGED, CaseStatus.INVESTIGATING, CaseStatus.REMEDY, CaseStatus.RESOLVED)
OUTCOME = RemedyOutcome(
    kind=RemedyKind.BACK_PAY, amount=Decimal("2400"), currency="CNY", workers_covered=12,
    verified_by=Verification.DOCUMENT,
)  # fmt: skip


@dataclass(frozen=True)
class _Desk:
    store: CasesStore
    keys: NodeKeys


def resolve_one(settings: Settings, keys: NodeKeys, receipt: str) -> int:
    """Take the case of ``receipt`` to resolved with back pay; returns its id (0 when not found)."""
    code = parse_receipt(receipt)
    service = IntakeService.open(settings)
    try:
        receipt_hash = service.receipts.hash(ReceiptCode(code or ""))
        store = open_cases(settings, keys)
        try:
            row = store._conn.execute("SELECT id FROM cases WHERE receipt_hash = ?", (bytes(receipt_hash),)).fetchone()
            if row is None:
                return 0
            case_id = int(row[0])
            work = CaseWork(store, keys)
            for status in STEPS:
                if status is CaseStatus.RESOLVED:
                    CaseRemedy(work).add(case_id, OUTCOME)
                case = store.get_case(case_id)
                work.update(case_id, seen_version=case.version, status=status.value)
                service.inbox.set_status(receipt_hash, BOARD[status])
            after_status(settings, _Desk(store, keys), case_id, CaseStatus.RESOLVED)
            return case_id
        finally:
            store.close()
    finally:
        service.close()


def retaliation_check_in(settings: Settings, keys: NodeKeys, base: str, receipt: str) -> tuple[int, int]:
    """Close the case of ``receipt``; its worker answers a check-in due now "yes" through the intake
    at ``base``; drain. Returns (the case, the retaliation case it opened), (0, 0) if not found."""
    code = parse_receipt(receipt)
    service = IntakeService.open(settings)
    try:
        receipt_hash = service.receipts.hash(ReceiptCode(code or ""))
        store = open_cases(settings, keys)
        try:
            row = store._conn.execute("SELECT id FROM cases WHERE receipt_hash = ?", (bytes(receipt_hash),)).fetchone()
            if row is None:
                return 0, 0
            case_id = int(row[0])
            work = CaseWork(store, keys)
            work.update(case_id, seen_version=store.get_case(case_id).version, status=CaseStatus.CLOSED_UNRESOLVED)
            service.inbox.set_status(receipt_hash, BOARD[CaseStatus.CLOSED_UNRESOLVED])
            after_status(settings, _Desk(store, keys), case_id, CaseStatus.CLOSED_UNRESOLVED)
            now = clock.now_s()
            question = NewQuestion(secrets.token_urlsafe(12), QuestionKind.RETALIATION, "", now)
            WorkerQuestions(work).record(case_id, [question])
            posted = PostedQuestion(question.id, bytes(receipt_hash), question.kind.value, "", int(now.timestamp()))
            post_questions(service.inbox, [posted])
        finally:
            store.close()
    finally:
        service.close()
    with httpx.Client(base_url=base, timeout=10) as client:
        shown = client.post("/api/v1/status", json={"receipt": receipt}).json().get("question") or {}
        answer = {"receipt": receipt, "question": shown.get("id", ""), "answer": 2}  # 2: yes, I was punished
        if client.post("/api/v1/answers", json=answer).status_code != 202:
            raise RuntimeError("demo answer refused")
    inbox, cases = open_inbox(settings), open_cases(settings, keys)
    try:
        drain(inbox, cases, keys)
        opened = cases._conn.execute(
            "SELECT opened_case_id FROM worker_questions WHERE case_id = ? AND opened_case_id IS NOT NULL", (case_id,)
        ).fetchone()
    finally:
        inbox.close()
        cases.close()
    return case_id, int(opened[0]) if opened else 0


__all__ = ["resolve_one", "retaliation_check_in"]
