"""Corrective action plans on cases.db: what must be done, by whom, by when, and whether it was.

Each case can carry a plan of actions (UNGP 31: predictable, transparent). Every change is
written to the hash-chained audit log in the same transaction; audit entries name the action
by its id and code fields only, never its words or its evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from intake import clock
from intake.domain import RemedyOutcome
from intake.errors import InvalidInput
from intake.store.casework import CaseWork, _now

WHO = ("employer", "brand", "public_buyer", "labour_group")
MAX_ACTION = 500
MAX_EVIDENCE = 2000


@dataclass(frozen=True)
class Action:
    id: int
    case_id: int
    action: str
    who: str
    due: date
    evidence: str
    done_at: datetime | None
    created_at: datetime
    user: str
    overdue: bool  # due before today and not done
    outcome: RemedyOutcome | None = None  # what was done for the workers, set when marked done

    @property
    def done(self) -> bool:
        return self.done_at is not None


def parse_due(value: str) -> date:
    """A due date as YYYY-MM-DD; anything else (2026-13-40, 26/1/1, '') is an InvalidInput."""
    value = value.strip()
    if len(value) != 10:
        raise InvalidInput("bad due date", fields={"due": "invalid"})
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("bad due date", fields={"due": "invalid"}) from None


class Actions:
    """The corrective action plan of cases, through a CaseWork (its store, keys and audit key)."""

    def __init__(self, work: CaseWork) -> None:
        self.work = work
        self.store = work.store

    def add(self, case_id: int, action: str, who: str, due: str, evidence: str = "") -> int:
        action = action.strip()
        evidence = evidence.strip()
        if not action or len(action) > MAX_ACTION:
            raise InvalidInput("bad action", fields={"action": "missing" if not action else "too_long"})
        if who not in WHO:
            raise InvalidInput("bad who", fields={"who": "invalid"})
        when = parse_due(due)
        if len(evidence) > MAX_EVIDENCE:
            raise InvalidInput("bad evidence", fields={"evidence": "too_long"})
        self.store.get_case(case_id)
        with self.store.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO actions (case_id, action, who, due, evidence, created_at, user) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (case_id, action, who, when.isoformat(), evidence, _now(), self.work.keys.user),
            )
            action_id = int(cur.lastrowid or 0)
            detail = {"action_id": action_id, "who": who, "due": when.isoformat(), "evidence": bool(evidence)}
            self.work._audit(conn, "action_add", case_id, detail)
        return action_id

    def set_done(self, case_id: int, action_id: int, done: bool = True, outcome: RemedyOutcome | None = None) -> bool:
        """Mark an action done (stamps done_at), with its remedy outcome if given, or not done again
        (which clears the outcome: it did not happen after all); False when nothing changed.

        Done again with an outcome sets or corrects the outcome of an action already done. Every
        change is audited with the outcome's codes and numbers (and the earlier ones), never words.
        """
        if outcome is not None and not done:
            raise InvalidInput("an outcome only for a step that is done", fields={"kind": "invalid"})
        self.store.get_case(case_id)
        with self.store.transaction() as conn:
            row = conn.execute(
                f"SELECT done_at, {_OUTCOME_COLUMNS} FROM actions WHERE id = ? AND case_id = ?",  # noqa: S608 - constant
                (action_id, case_id),
            ).fetchone()
            if row is None:
                raise InvalidInput("no such action", fields={"action": "invalid"})
            before = outcome_of(row[1:])
            if bool(row[0]) == done and (not done or outcome is None or outcome == before):
                return False
            detail: dict[str, Any] = {"action_id": action_id}
            if before is not None and before != outcome:
                detail.update(audit_detail(before, "was_"))
            if outcome is not None:
                detail.update(audit_detail(outcome))
            if bool(row[0]) == done:  # done already: only the outcome changes
                conn.execute(f"UPDATE actions SET {_OUTCOME_SET} WHERE id = ?", (*outcome_row(outcome), action_id))  # noqa: S608
                self.work._audit(conn, "action_outcome", case_id, detail)
                return True
            conn.execute(
                f"UPDATE actions SET done_at = ?, {_OUTCOME_SET} WHERE id = ?",  # noqa: S608 - constant
                (_now() if done else "", *outcome_row(outcome if done else None), action_id),
            )
            self.work._audit(conn, "action_done" if done else "action_undone", case_id, detail)
        return True

    def plan(self, case_id: int, today: date | None = None) -> list[Action]:
        """The case's actions, by due date; each flagged overdue when due before today and not done."""
        today = today or clock.now().date()
        with self.store._lock:
            rows = self.store._conn.execute(
                f"SELECT id, case_id, action, who, due, evidence, done_at, created_at, user, {_OUTCOME_COLUMNS} "  # noqa: S608
                "FROM actions WHERE case_id = ? ORDER BY due, id",
                (case_id,),
            ).fetchall()
        out = []
        for i, c, a, w, d, e, done_at, created, u, *remedy in rows:
            due = date.fromisoformat(d)
            done = datetime.fromisoformat(done_at) if done_at else None
            overdue = done is None and due < today
            out.append(
                Action(i, c, a, w, due, e, done, datetime.fromisoformat(created), u, overdue, outcome_of(remedy))
            )
        return out


# The outcome of a step in its own columns (migration 10), so a partner's counts and the desk's can be
# plain SQL; remedy_kind '' means none.
_OUTCOME_COLUMNS = "remedy_kind, remedy_amount, remedy_currency, remedy_workers, remedy_verified_by"
_OUTCOME_SET = ", ".join(f"{c.strip()} = ?" for c in _OUTCOME_COLUMNS.split(","))


def outcome_row(outcome: RemedyOutcome | None) -> tuple[str, str, str, int, str]:
    """(kind, amount, currency, workers covered, verified by) as stored; empty for none."""
    if outcome is None:
        return ("", "", "", 0, "")
    amount = "" if outcome.amount is None else format(outcome.amount, "f")
    return (outcome.kind.value, amount, outcome.currency, outcome.workers_covered, outcome.verified_by.value)


def audit_detail(outcome: RemedyOutcome, prefix: str = "") -> dict[str, Any]:
    """An outcome as audit detail: its codes and numbers, flat. The amount goes with its currency as
    one token ("CNY:1500.50"): an amount of money, not a number that could be a worker's phone."""
    detail: dict[str, Any] = {
        "kind": outcome.kind.value, "workers_covered": outcome.workers_covered, "verified_by": outcome.verified_by.value,
    }  # fmt: skip
    if outcome.amount is not None:
        detail["money"] = f"{outcome.currency}:{format(outcome.amount, 'f')}"
    return {prefix + k: v for k, v in detail.items()}


def outcome_of(row: Sequence[Any]) -> RemedyOutcome | None:
    """The outcome stored in the five columns of :func:`outcome_row`; None when there is none."""
    kind, amount, currency, workers, verified = row
    if not kind:
        return None
    return RemedyOutcome(
        kind=kind, amount=Decimal(amount) if amount else None, currency=currency, workers_covered=workers,
        verified_by=verified,
    )  # fmt: skip


__all__ = ["MAX_ACTION", "WHO", "Action", "Actions", "audit_detail", "outcome_of", "outcome_row", "parse_due"]
