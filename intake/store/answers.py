"""The worker's questions and answers on cases.db (issue 15): what the desk asked, and what came back.

``worker_questions`` (migration 13) keeps each question the desk put on a worker's status board
(:mod:`intake.questions`) with the case and, for a corrective action's, the step it asked about.
The drain stores the sealed answers here (:func:`store_answer`):

- "did it happen?" sets ``cases.worker_confirmation`` (yes / partly / no); "partly" or "no" reopens
  what was asked about: the step goes back to not done (its outcome cleared, the audit keeps it),
  and a resolved case goes back to remedy. The case then reads "disputed by the worker" on the desk
  and in the partner's summary (:func:`intake.domain.remedy_state`) until a caseworker resolves it
  again, which clears the answer and asks anew;
- a retaliation check-in answered "yes" opens a new case: urgent, category retaliation, the same
  factory, the worker's sharing consent and reporter link, and no receipt of its own (the worker
  keeps the one receipt they have, so replies go on the original case's board); it is linked to the
  original through the question's ``opened_case_id``.

Every answer is audited on the case (codes only: question id, kind, answer, channel), by the user
``worker``. An answer to a question answered already changes nothing (one answer per question).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crypto import NodeKeys
from intake import audit
from intake.domain import CaseStatus, Category, Channel, RemedyKind, WorkerConfirmation
from intake.questions import SUBJECT_ACTION, SUBJECT_CASE, QuestionKind, kind_of, meaning
from intake.store.actions import audit_detail, outcome_of, outcome_row
from intake.store.casework import CaseWork, _now
from intake.store.db import Connection

WORKER = "worker"  # the audit log's user for what a worker's answer changed
DISPUTED = (WorkerConfirmation.PARTLY.value, WorkerConfirmation.NO.value)
_OUTCOME = "remedy_kind, remedy_amount, remedy_currency, remedy_workers, remedy_verified_by"


@dataclass(frozen=True)
class Question:
    """A question the desk asked, as the case page shows it."""

    id: str
    case_id: int
    action_id: int | None
    kind: str
    subject: str
    due_at: datetime
    created_at: datetime
    withdrawn: bool
    answered_at: datetime | None
    answer: str  # "yes", "partly", "no"; "" until answered
    channel: str
    opened_case_id: int | None


@dataclass(frozen=True)
class NewQuestion:
    id: str
    kind: QuestionKind
    subject: str
    due_at: datetime
    action_id: int | None = None


class WorkerQuestions:
    """The questions of cases, through a CaseWork (its store, keys and audit key)."""

    def __init__(self, work: CaseWork) -> None:
        self.work = work
        self.store = work.store

    def record(self, case_id: int, questions: Sequence[NewQuestion]) -> None:
        with self.store.transaction() as conn:
            for q in questions:
                conn.execute(
                    "INSERT INTO worker_questions (id, case_id, action_id, kind, subject, due_at, created_at, user) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (q.id, case_id, q.action_id, q.kind.value, q.subject, q.due_at.isoformat(), _now(),
                     self.work.keys.user),
                )  # fmt: skip
                detail: dict[str, Any] = {"question": q.id, "kind": q.kind.value, "subject": q.subject}
                detail.update({"action_id": q.action_id} if q.action_id else {})
                detail["due"] = q.due_at.date().isoformat()
                self.work._audit(conn, "question_ask", case_id, detail)

    def pending(self, case_id: int, kind: QuestionKind | None = None, action_id: int | None = None) -> list[str]:
        """Ids of the case's questions still waiting (not answered, not withdrawn); of one kind, or
        of one step, when given."""
        sql = "SELECT id FROM worker_questions WHERE case_id = ? AND answered_at = '' AND withdrawn_at = ''"
        params: list[Any] = [case_id]
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind.value)
        if action_id is not None:
            sql += " AND action_id = ?"
            params.append(action_id)
        with self.store._lock:
            return [str(r[0]) for r in self.store._conn.execute(sql + " ORDER BY due_at, id", params)]

    def withdraw(self, case_id: int, question_ids: Sequence[str], reason: str) -> None:
        if not question_ids:
            return
        with self.store.transaction() as conn:
            for qid in question_ids:
                conn.execute(
                    "UPDATE worker_questions SET withdrawn_at = ? WHERE id = ? AND case_id = ? AND withdrawn_at = ''",
                    (_now(), qid, case_id),
                )
                self.work._audit(conn, "question_withdraw", case_id, {"question": qid, "reason": reason})

    def for_case(self, case_id: int) -> list[Question]:
        with self.store._lock:
            rows = self.store._conn.execute(
                "SELECT id, case_id, action_id, kind, subject, due_at, created_at, withdrawn_at, answered_at, answer, "
                "channel, opened_case_id FROM worker_questions WHERE case_id = ? ORDER BY due_at, id",
                (case_id,),
            ).fetchall()
        return [
            Question(str(i), int(c), a, str(k), str(s), datetime.fromisoformat(d), datetime.fromisoformat(cr), bool(w),
                     datetime.fromisoformat(at) if at else None, str(ans), str(ch), o)
            for i, c, a, k, s, d, cr, w, at, ans, ch, o in rows
        ]  # fmt: skip

    def retaliation_of(self, case_id: int) -> int | None:
        """The case a retaliation case was opened from (by a check-in answered "yes"), if it was."""
        with self.store._lock:
            row = self.store._conn.execute(
                "SELECT case_id FROM worker_questions WHERE opened_case_id = ? LIMIT 1", (case_id,)
            ).fetchone()
        return int(row[0]) if row else None

    def confirm_subject(self, case_id: int, action_id: int | None = None) -> str:
        """What a "did it happen?" question names: the step's remedy kind, or the case's one kind of
        remedy (its outcomes, else its steps'); else a generic phrase (never the caseworkers' words)."""
        with self.store._lock:
            conn = self.store._conn
            if action_id is not None:
                row = conn.execute(
                    "SELECT remedy_kind FROM actions WHERE id = ? AND case_id = ?", (action_id, case_id)
                ).fetchone()
                return _kind(row[0] if row else "") or SUBJECT_ACTION
            kinds = {str(r[0]) for r in conn.execute("SELECT kind FROM case_outcomes WHERE case_id = ?", (case_id,))}
            if not kinds:
                kinds = {
                    str(r[0])
                    for r in conn.execute(
                        "SELECT remedy_kind FROM actions WHERE case_id = ? AND done_at != '' AND remedy_kind != ''",
                        (case_id,),
                    )
                }
        return (_kind(kinds.pop()) if len(kinds) == 1 else "") or SUBJECT_CASE


def _kind(value: str) -> str:
    try:
        return RemedyKind(value).value
    except ValueError:
        return ""


# -- the drain: sealed answers into cases ---------------------------------------------------------------
@dataclass(frozen=True)
class OpenedAnswer:
    """A sealed "answer" item, opened and checked (the drain's :func:`open_answer`)."""

    receipt_hash: bytes
    question: str
    kind: str  # as the intake knew the question; the desk's own record wins
    answer: int
    channel: Channel
    locale: str
    received_at: datetime
    audit_key: bytes


def open_answer(doc: dict[str, Any], keys: NodeKeys) -> OpenedAnswer:
    """Check an opened answer item; raises ValueError/KeyError/TypeError when it cannot be stored."""
    answer = doc["answer"]
    question = doc["question"]
    if type(answer) is not int or not isinstance(question, str) or not 0 < len(question) <= 64:
        raise ValueError("malformed answer")
    received = datetime.fromisoformat(str(doc["received_at"]))
    return OpenedAnswer(
        bytes.fromhex(doc["receipt_hash"]), question, str(doc.get("question_kind", "")), answer,
        Channel(doc["channel"]), str(doc.get("locale") or "en")[:16], received, audit.audit_key(keys),
    )  # fmt: skip


def store_answer(conn: Connection, item_id: str, a: OpenedAnswer) -> int:
    """Apply one answer inside the drain's write transaction; record the item as drained.

    Returns the case id (0 when no case has the receipt), or minus the id of the retaliation case
    it opened (the drain counts that as a new case)."""
    case = conn.execute(
        "SELECT id, status, worker_confirmation FROM cases WHERE receipt_hash = ?", (a.receipt_hash,)
    ).fetchone()
    if case is None:
        conn.execute("INSERT INTO drained_items (item_id, case_id) VALUES (?, NULL)", (item_id,))
        return 0
    case_id, status, was_confirmation = int(case[0]), str(case[1]), case[2]
    q = conn.execute(
        "SELECT action_id, kind, answered_at FROM worker_questions WHERE id = ? AND case_id = ?", (a.question, case_id)
    ).fetchone()
    kind = kind_of(str(q[1])) if q else kind_of(a.kind)
    said = meaning(kind.value, a.answer) if kind else None
    conn.execute("INSERT INTO drained_items (item_id, case_id) VALUES (?, ?)", (item_id, case_id))
    if said is None or (q is not None and q[2]):  # not an answer of its kind, or answered already
        return case_id
    now = _now()
    detail: dict[str, Any] = {"question": a.question, "kind": kind.value if kind else "", "answer": said,
                              "channel": a.channel.value}  # fmt: skip
    opened: int | None = None
    if kind is QuestionKind.CONFIRM:
        conn.execute(
            "UPDATE cases SET worker_confirmation = ?, version = version + 1, updated_at = ? WHERE id = ?",
            (said, now, case_id),
        )
        detail["was_worker_confirmation"] = was_confirmation
        if said in DISPUTED:
            detail.update(_reopen(conn, case_id, status, q[0] if q else None, now))
    elif said == "yes":  # a retaliation check-in: "yes, I was punished"
        opened = _open_retaliation_case(conn, case_id, a, now)
        detail["opened_case"] = opened
    audit.record(conn, a.audit_key, user=WORKER, action="worker_answer", case_id=case_id, detail=detail)
    if opened is not None:
        audit.record(conn, a.audit_key, user=WORKER, action="retaliation_case", case_id=opened,
                     detail={"retaliation_of": case_id, "question": a.question})  # fmt: skip
    conn.execute(
        "UPDATE worker_questions SET answered_at = ?, answer = ?, channel = ?, opened_case_id = ? WHERE id = ?",
        (a.received_at.isoformat(), said, a.channel.value, opened, a.question),
    )
    return -opened if opened is not None else case_id


def _reopen(conn: Connection, case_id: int, status: str, action_id: int | None, now: str) -> dict[str, Any]:
    """The worker says it did not (fully) happen: the step back to not done, a resolved case back to
    remedy (the stage's deadline counts again from now). Returns the audit detail of what moved."""
    detail: dict[str, Any] = {}
    if action_id is not None:
        row = conn.execute(
            f"SELECT done_at, {_OUTCOME} FROM actions WHERE id = ? AND case_id = ?",  # noqa: S608 - constant
            (action_id, case_id),
        ).fetchone()
        if row is not None and row[0]:
            conn.execute(
                "UPDATE actions SET done_at = '', remedy_kind = ?, remedy_amount = ?, remedy_currency = ?, "
                "remedy_workers = ?, remedy_verified_by = ? WHERE id = ?",
                (*outcome_row(None), action_id),
            )
            detail.update({"reopened_action": action_id})
            was = outcome_of(row[1:])
            if was is not None:
                detail.update(audit_detail(was, "was_"))
    if status == CaseStatus.RESOLVED.value:
        conn.execute(
            "UPDATE cases SET status = ?, status_since = ?, closed_at = '' WHERE id = ?",
            (CaseStatus.REMEDY.value, now, case_id),
        )
        detail.update({"status": CaseStatus.REMEDY.value, "was_status": status})
    return detail


def _open_retaliation_case(conn: Connection, case_id: int, a: OpenedAnswer, now: str) -> int:
    """An urgent retaliation case for the worker of ``case_id``: its factory, consent and reporter
    link; no words (the worker wrote none), no contact, no receipt of its own."""
    row = conn.execute(
        "SELECT factory, factory_id, consent, reporter_link, locale FROM cases WHERE id = ?", (case_id,)
    ).fetchone()
    received = a.received_at.isoformat()
    cur = conn.execute(
        "INSERT INTO cases (created_at, channel, locale, factory, categories, description, consent, contact_ok, "
        "receipt_hash, reporter_link, status_since, severity, factory_id, updated_at) "
        "VALUES (?, ?, ?, ?, ?, '', ?, 0, NULL, ?, ?, 'urgent', ?, ?)",
        (received, a.channel.value, row[4] or a.locale, row[0], json.dumps([Category.RETALIATION.value]), row[2],
         row[3], received, row[1], now),
    )  # fmt: skip
    return int(cur.lastrowid or 0)


__all__ = [
    "NewQuestion",
    "OpenedAnswer",
    "Question",
    "WorkerQuestions",
    "open_answer",
    "store_answer",
]
