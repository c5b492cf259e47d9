"""A case's remedy on cases.db: its outcomes, the worker's confirmation, and the cases a partner waits on.

A case can carry several outcomes (back pay for 40 workers and a safety fix); each CAP step carries
its own (``intake.store.actions``). ``cases.worker_confirmation`` holds the worker's answer to "did it
happen?" (NULL until answered; the worker-confirmation channel fills it) and, with the status, gives
the case's :class:`~intake.domain.RemedyState`. Every change is in the hash-chained audit log with the
outcome's codes and numbers only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from intake import clock
from intake.domain import RemedyOutcome, RemedyState, remedy_state
from intake.errors import InvalidInput
from intake.store.actions import audit_detail, outcome_of, outcome_row
from intake.store.casework import CaseWork, _now

MAX_OUTCOMES = 50  # per case


@dataclass(frozen=True)
class CaseOutcome:
    id: int
    case_id: int
    outcome: RemedyOutcome
    at: datetime
    user: str


# The shared cases with a CAP step overdue: read from the open steps' index (cases migration 18), not
# from every step of the store (43 ms on every GET /cases at 1,000,000 cases, bench/bench_scale.py)
OVERDUE_SQL = (
    "SELECT a.case_id, min(a.due), group_concat(DISTINCT a.who) FROM actions a "
    "JOIN relay_reviews r ON r.case_id = a.case_id "
    "WHERE r.approved_hash != '' AND a.done_at = '' AND a.due < ? "
    "GROUP BY a.case_id ORDER BY min(a.due), a.case_id LIMIT ?"
)


@dataclass(frozen=True)
class Waiting:
    """A case a partner waits on: why (``step_overdue``, or a partner's message once those exist)."""

    case_id: int
    reason: str
    days: int  # days the oldest open step is overdue (0 for a message)
    who: tuple[str, ...]  # who must act on the overdue steps


class CaseRemedy:
    """Outcomes and remedy state of cases, through a CaseWork (its store, keys and audit key)."""

    def __init__(self, work: CaseWork) -> None:
        self.work = work
        self.store = work.store

    def add(self, case_id: int, outcome: RemedyOutcome) -> int:
        self.store.get_case(case_id)
        with self.store.transaction() as conn:
            (n,) = conn.execute("SELECT count(*) FROM case_outcomes WHERE case_id = ?", (case_id,)).fetchone()
            if n >= MAX_OUTCOMES:
                raise InvalidInput("too many outcomes", fields={"kind": "too_many"})
            kind, amount, currency, workers, verified = outcome_row(outcome)
            cur = conn.execute(
                "INSERT INTO case_outcomes (case_id, kind, amount, currency, workers_covered, verified_by, at, user) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (case_id, kind, amount, currency, workers, verified, _now(), self.work.keys.user),
            )
            outcome_id = int(cur.lastrowid or 0)
            detail = {"outcome_id": outcome_id, **audit_detail(outcome)}
            self.work._audit(conn, "outcome_add", case_id, detail)
        return outcome_id

    def remove(self, case_id: int, outcome_id: int) -> None:
        """Take back an outcome recorded by mistake (the audit log keeps what it was)."""
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT kind, amount, currency, workers_covered, verified_by FROM case_outcomes "
                "WHERE id = ? AND case_id = ?",
                (outcome_id, case_id),
            ).fetchone()
            if row is None:
                raise InvalidInput("no such outcome", fields={"outcome": "invalid"})
            conn.execute("DELETE FROM case_outcomes WHERE id = ?", (outcome_id,))
            was = outcome_of(row)
            detail = {"outcome_id": outcome_id, **(audit_detail(was, "was_") if was else {})}
            self.work._audit(conn, "outcome_remove", case_id, detail)

    def outcomes(self, case_id: int) -> list[CaseOutcome]:
        with self.store._lock:
            rows = self.store._conn.execute(
                "SELECT id, case_id, kind, amount, currency, workers_covered, verified_by, at, user "
                "FROM case_outcomes WHERE case_id = ? ORDER BY id",
                (case_id,),
            ).fetchall()
        out = []
        for i, c, *stored, at, user in rows:
            outcome = outcome_of(stored)
            if outcome is not None:
                out.append(CaseOutcome(int(i), int(c), outcome, datetime.fromisoformat(at), str(user)))
        return out

    def states(self, case_ids: list[int]) -> dict[int, RemedyState]:
        """{case id: remedy state} of those of the cases that have one (in remedy, resolved, disputed)."""
        if not case_ids:
            return {}
        marks = ",".join("?" * len(case_ids))
        with self.store._lock:
            rows = self.store._conn.execute(
                f"SELECT id, status, worker_confirmation FROM cases WHERE id IN ({marks})",  # noqa: S608 - placeholders
                case_ids,
            ).fetchall()
        out = {int(i): remedy_state(s, c) for i, s, c in rows}
        return {i: s for i, s in out.items() if s is not None}

    def confirmation(self, case_id: int) -> str | None:
        with self.store._lock:
            row = self.store._conn.execute("SELECT worker_confirmation FROM cases WHERE id = ?", (case_id,)).fetchone()
        return str(row[0]) if row and row[0] is not None else None

    def waiting_on(self, today: date | None = None, limit: int = 100) -> list[Waiting]:
        """The cases a partner is waiting on: first those with a partner's question or update request
        no summary answered yet (oldest first), then cases a partner has (a coordinator approved their
        summary) with a CAP step past its due date and not done, longest overdue first.
        """
        today = today or clock.now().date()
        with self.store._lock:
            conn = self.store._conn
            waiting = _partner_messages(conn, today)
            rows = conn.execute(OVERDUE_SQL, (today.isoformat(), max(1, min(limit, 1000)))).fetchall()
        seen = {w.case_id for w in waiting}
        for case_id, due, who in rows:
            if int(case_id) not in seen:
                days = (today - date.fromisoformat(str(due)[:10])).days
                waiting.append(Waiting(int(case_id), "step_overdue", days, tuple(sorted(str(who).split(",")))))
        return waiting[:limit]


def _partner_messages(conn: Any, today: date) -> list[Waiting]:
    """The cases with a partner's question or ``update_request`` that no summary answered yet: received
    after the case's summary was last approved (issue 15 item 4's ``partner_messages``, when present).
    ``days`` counts from the oldest such message; ``who`` names the partners."""
    if (
        conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'partner_messages'").fetchone()
        is None
    ):
        return []
    rows = conn.execute(
        "SELECT m.case_id, max(m.kind = 'update_request'), min(m.received_at), group_concat(DISTINCT m.partner) "
        "FROM partner_messages m LEFT JOIN relay_reviews r ON r.case_id = m.case_id "
        "WHERE m.kind IN ('question', 'update_request') AND m.received_at > COALESCE(r.approved_at, '') "
        "GROUP BY m.case_id ORDER BY min(m.received_at), m.case_id LIMIT 1000"
    ).fetchall()
    out = []
    for case_id, update, first, partners in rows:
        try:
            days = max(0, (today - date.fromisoformat(str(first)[:10])).days)
        except ValueError:
            days = 0
        reason = "update_request" if update else "partner_message"
        out.append(Waiting(int(case_id), reason, days, tuple(sorted(str(partners or "").split(",")))))
    return out


__all__ = ["MAX_OUTCOMES", "OVERDUE_SQL", "CaseOutcome", "CaseRemedy", "Waiting"]
