"""Corrective action plans on cases.db: what must be done, by whom, by when, and whether it was.

Each case can carry a plan of actions (UNGP 31: predictable, transparent). Every change is
written to the hash-chained audit log in the same transaction; audit entries name the action
by its id and code fields only, never its words or its evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from intake import clock
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

    def set_done(self, case_id: int, action_id: int, done: bool = True) -> bool:
        """Mark an action done (stamps done_at) or not done again; False when nothing changed."""
        self.store.get_case(case_id)
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT done_at FROM actions WHERE id = ? AND case_id = ?", (action_id, case_id)
            ).fetchone()
            if row is None:
                raise InvalidInput("no such action", fields={"action": "invalid"})
            if bool(row[0]) == done:
                return False
            conn.execute("UPDATE actions SET done_at = ? WHERE id = ?", (_now() if done else "", action_id))
            self.work._audit(conn, "action_done" if done else "action_undone", case_id, {"action_id": action_id})
        return True

    def plan(self, case_id: int, today: date | None = None) -> list[Action]:
        """The case's actions, by due date; each flagged overdue when due before today and not done."""
        today = today or clock.now().date()
        with self.store._lock:
            rows = self.store._conn.execute(
                "SELECT id, case_id, action, who, due, evidence, done_at, created_at, user FROM actions "
                "WHERE case_id = ? ORDER BY due, id",
                (case_id,),
            ).fetchall()
        out = []
        for i, c, a, w, d, e, done_at, created, u in rows:
            due = date.fromisoformat(d)
            done = datetime.fromisoformat(done_at) if done_at else None
            out.append(
                Action(i, c, a, w, due, e, done, datetime.fromisoformat(created), u, done is None and due < today)
            )
        return out


__all__ = ["MAX_ACTION", "WHO", "Action", "Actions", "parse_due"]
