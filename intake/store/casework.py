"""Case work on cases.db: finding cases, moving them through the workflow, notes and replies.

Every view and change is written to the hash-chained audit log in the same transaction
(:mod:`intake.audit`). Audit entries name fields and codes, never a worker's words or number.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from crypto import NodeKeys
from crypto.errors import CannotOpen
from crypto.fields import decrypt_field
from intake import audit, clock
from intake.domain import BoardStatus, Case, CaseStatus, Category, Channel, ReceiptHash
from intake.errors import InvalidInput
from intake.store import caselist
from intake.store.caselist import Filters
from intake.store.cases import CasesStore
from intake.store.db import Connection

# Allowed moves (UNGP 31: predictable). A closed case can be reopened to "triaged".
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.NEW: frozenset({CaseStatus.TRIAGED, CaseStatus.CLOSED_UNRESOLVED, CaseStatus.WITHDRAWN}),
    CaseStatus.TRIAGED: frozenset({CaseStatus.INVESTIGATING, CaseStatus.CLOSED_UNRESOLVED, CaseStatus.WITHDRAWN}),
    CaseStatus.INVESTIGATING: frozenset(
        {CaseStatus.REMEDY, CaseStatus.RESOLVED, CaseStatus.CLOSED_UNRESOLVED, CaseStatus.WITHDRAWN}
    ),
    CaseStatus.REMEDY: frozenset({CaseStatus.RESOLVED, CaseStatus.CLOSED_UNRESOLVED, CaseStatus.WITHDRAWN}),
    CaseStatus.RESOLVED: frozenset({CaseStatus.TRIAGED}),
    CaseStatus.CLOSED_UNRESOLVED: frozenset({CaseStatus.TRIAGED}),
    CaseStatus.WITHDRAWN: frozenset({CaseStatus.TRIAGED}),
}
CLOSED = frozenset({CaseStatus.RESOLVED, CaseStatus.CLOSED_UNRESOLVED, CaseStatus.WITHDRAWN})
BOARD: dict[CaseStatus, BoardStatus] = {
    CaseStatus.NEW: BoardStatus.RECEIVED,
    CaseStatus.TRIAGED: BoardStatus.IN_REVIEW,
    CaseStatus.INVESTIGATING: BoardStatus.IN_PROGRESS,
    CaseStatus.REMEDY: BoardStatus.IN_PROGRESS,
    CaseStatus.RESOLVED: BoardStatus.CLOSED,
    CaseStatus.CLOSED_UNRESOLVED: BoardStatus.CLOSED,
    CaseStatus.WITHDRAWN: BoardStatus.CLOSED,
}
SEVERITIES = ("urgent", "high", "normal", "low")
# The same columns as CasesStore._COLUMNS, qualified for joins.
_COLUMNS = ", ".join(
    "c." + col
    for col in (
        "id", "created_at", "channel", "locale", "status", "factory", "location", "categories", "description",
        "consent", "contact_ok", "contact IS NOT NULL", "severity", "assignee", "version",
    )
)  # fmt: skip
MAX_NOTE = 20_000
MAX_REPLY = 2000


@dataclass(frozen=True)
class Stage:
    """Where a case is in the workflow and since when (for stage deadlines)."""

    case_id: int
    status: str
    since: datetime


@dataclass(frozen=True)
class Entry:
    """A note or a reply, for the case page."""

    kind: str  # "note" or "reply"
    at: datetime
    user: str
    text: str
    sms: bool = False


@dataclass(frozen=True)
class Change:
    case: Case
    conflict: bool  # someone else changed the case since this form was loaded (their change was kept in history)
    board: tuple[ReceiptHash, BoardStatus] | None = None


class _Raced(Exception):
    pass


def _now() -> str:
    return clock.now_s().isoformat()


class CaseWork:
    def __init__(self, store: CasesStore, keys: NodeKeys) -> None:
        self.store = store
        self.keys = keys
        self._audit_key = audit.audit_key(keys)

    def _audit(self, conn: Any, action: str, case_id: int | None, detail: dict[str, Any]) -> None:
        audit.record(conn, self._audit_key, user=self.keys.user, action=action, case_id=case_id, detail=detail)

    # -- reading ------------------------------------------------------------------------------------
    def find(self, f: Filters, deadlines: Mapping[str, int] | None = None, now: datetime | None = None) -> list[Case]:
        return self.find_page(f, deadlines, now)[0]

    def find_page(
        self, f: Filters, deadlines: Mapping[str, int] | None = None, now: datetime | None = None
    ) -> tuple[list[Case], caselist.Page]:
        """The desk's case list, and whether a search was capped (:mod:`intake.store.caselist`)."""
        with self.store._lock:
            page = caselist.find(self.store._conn, f, deadlines or {}, now or clock.now())
            marks = ",".join("?" * len(page.ids))
            rows = self.store._conn.execute(
                f"SELECT {_COLUMNS} FROM cases c WHERE c.id IN ({marks})",  # noqa: S608 - fixed columns, placeholders
                page.ids,
            ).fetchall()
        by_id = {r[0]: r for r in rows}
        return [CasesStore._case(by_id[i], []) for i in page.ids if i in by_id], page

    def stages(self, case_ids: list[int]) -> dict[int, Stage]:
        """Status and stage start of the given cases (a case never moved counts from its creation)."""
        if not case_ids:
            return {}
        marks = ",".join("?" * len(case_ids))
        with self.store._lock:
            rows = self.store._conn.execute(
                f"SELECT id, status, COALESCE(NULLIF(status_since, ''), created_at) FROM cases WHERE id IN ({marks})",  # noqa: S608 - placeholders only
                case_ids,
            ).fetchall()
        return {i: Stage(i, s, _aware(datetime.fromisoformat(t))) for i, s, t in rows}

    def overdue(self, case_ids: list[int], deadlines: Mapping[str, int], now: datetime | None = None) -> dict[int, int]:
        """{case id: days overdue} for those of the cases past their stage's target."""
        now = now or clock.now()
        out = {i: overdue_days(s, deadlines, now) for i, s in self.stages(case_ids).items()}
        return {i: d for i, d in out.items() if d}

    def expired(self, case_ids: list[int]) -> set[int]:
        """Those of the cases whose words retention destroyed (intake/retention.py). Read for the
        page's rows only, by primary key: the list's own query (intake/store/caselist.py) is untouched."""
        if not case_ids:
            return set()
        marks = ",".join("?" * len(case_ids))
        with self.store._lock:
            rows = self.store._conn.execute(
                f"SELECT id FROM cases WHERE id IN ({marks}) AND expired_at != ''",  # noqa: S608 - placeholders only
                case_ids,
            ).fetchall()
        return {int(r[0]) for r in rows}

    def open_case(self, case_id: int) -> tuple[Case, list[Entry]]:
        """The case as a caseworker sees it; the view itself is audited."""
        case = self.store.get_case(case_id)
        with self.store.transaction() as conn:
            notes = conn.execute(
                "SELECT at, user, text FROM notes WHERE case_id = ? ORDER BY id", (case_id,)
            ).fetchall()
            replies = conn.execute(
                "SELECT at, user, text, sms FROM replies WHERE case_id = ? ORDER BY id", (case_id,)
            ).fetchall()
            self._audit(conn, "view", case_id, {})
        entries = [Entry("note", datetime.fromisoformat(a), u, t) for a, u, t in notes]
        entries += [Entry("reply", datetime.fromisoformat(a), u, t, bool(s)) for a, u, t, s in replies]
        return case, sorted(entries, key=lambda e: e.at)

    # -- changing -----------------------------------------------------------------------------------
    def update(
        self,
        case_id: int,
        *,
        seen_version: int,
        status: str | None = None,
        severity: str | None = None,
        assignee: str | None = None,
        categories: list[str] | None = None,
        factory: str | None = None,
        consent: int | None = None,
    ) -> Change:
        """Change fields of a case. Last write wins; a stale form is reported, never lost.

        ``consent`` records what the worker said later (e.g. by SMS or on a call-back): the desk
        must only change it on the worker's word, and the change is audited with the old value.
        """
        current = self.store.get_case(case_id)
        changes: dict[str, Any] = {}
        if status is not None and status != current.status.value:
            try:
                new = CaseStatus(status)
            except ValueError:
                raise InvalidInput("bad status", fields={"status": "invalid"}) from None
            if new not in TRANSITIONS[current.status]:
                raise InvalidInput("status move not allowed", fields={"status": "invalid"})
            changes["status"] = new.value
        if severity is not None and severity != current.severity:
            if severity not in SEVERITIES:
                raise InvalidInput("bad severity", fields={"severity": "invalid"})
            changes["severity"] = severity
        if assignee is not None and assignee != current.assignee:
            changes["assignee"] = assignee[:64]
        if categories is not None:
            try:
                cats = [Category(c).value for c in dict.fromkeys(categories)]
            except ValueError:
                raise InvalidInput("bad category", fields={"categories": "invalid"}) from None
            if cats != [c.value for c in current.categories]:
                changes["categories"] = json.dumps(cats)
        if factory is not None and factory.strip() != current.factory:
            changes["factory"] = factory.strip()[:300]
        if consent is not None and consent != int(current.consent):
            if consent not in (0, 1, 2):
                raise InvalidInput("bad consent", fields={"consent": "invalid"})
            changes["consent"] = consent
        conflict = seen_version != current.version
        if not changes:
            return Change(current, conflict)
        closing = changes.get("status") in {s.value for s in CLOSED}

        def write(conn: Connection) -> None:
            sets = ", ".join(f"{k} = ?" for k in changes)
            cur = conn.execute(
                f"UPDATE cases SET {sets}, version = version + 1, updated_at = ? WHERE id = ? AND version = ?",  # noqa: S608 - fixed names
                (*changes.values(), _now(), case_id, current.version),
            )
            if cur.rowcount != 1:  # another desk wrote between our read and this transaction
                raise _Raced()
            if "status" in changes:  # stage timing: deadlines count from here; closing stamps closed_at
                stamp = _now()
                conn.execute(
                    "UPDATE cases SET status_since = ?, closed_at = CASE WHEN ? THEN ? ELSE '' END WHERE id = ?",
                    (stamp, int(closing), stamp, case_id),
                )
            if closing:
                # Closing shreds the worker's contact: nobody can text them from this case again.
                conn.execute("UPDATE cases SET contact_key = NULL, contact = NULL WHERE id = ?", (case_id,))
            confirmed = None
            if changes.get("status") == CaseStatus.RESOLVED.value:
                # Resolved (again): the worker is asked anew; an earlier answer was about an earlier resolution.
                confirmed = conn.execute("SELECT worker_confirmation FROM cases WHERE id = ?", (case_id,)).fetchone()[0]
                conn.execute("UPDATE cases SET worker_confirmation = NULL WHERE id = ?", (case_id,))
            # Coded fields with their earlier values, so a stale form's overwrite loses nothing (codes only).
            before = {
                "status": current.status.value,
                "severity": current.severity,
                "categories": [c.value for c in current.categories],
                "consent": int(current.consent),
            }
            detail: dict[str, Any] = {}
            for k in ("status", "severity", "categories", "consent"):
                if k in changes:
                    detail[k] = json.loads(changes[k]) if k == "categories" else changes[k]
                    detail["was_" + k] = before[k]
            detail["fields"] = sorted(changes)
            detail["from_version"] = current.version
            if conflict:
                detail["stale_form_version"] = seen_version
            if closing and current.has_contact:
                detail["contact_shredded"] = True
            if confirmed is not None:
                detail["was_worker_confirmation"] = confirmed
            self._audit(conn, "update", case_id, detail)

        try:
            with self.store.transaction() as conn:
                write(conn)
        except _Raced:  # validate again against what is stored now (a move legal then may not be now)
            return self.update(
                case_id, seen_version=seen_version, status=status, severity=severity, assignee=assignee,
                categories=categories, factory=factory, consent=consent,
            )  # fmt: skip
        case = self.store.get_case(case_id)
        board = None
        if "status" in changes:
            receipt = self.store.receipt_hash(case_id)
            if receipt is not None:
                board = (receipt, BOARD[CaseStatus(changes["status"])])
        return Change(case, conflict, board)

    def listened(self, case_id: int) -> None:
        """Playing a recording is a view of the case too: audited."""
        with self.store.transaction() as conn:
            self._audit(conn, "listen", case_id, {})

    def add_note(self, case_id: int, text: str) -> None:
        text = _entry_text(text, MAX_NOTE, "bad note")
        self.store.get_case(case_id)
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO notes (case_id, at, user, text) VALUES (?, ?, ?, ?)",
                (case_id, _now(), self.keys.user, text),
            )
            self._audit(conn, "note", case_id, {})

    def add_reply(self, case_id: int, text: str, *, sms: bool) -> ReceiptHash | None:
        """Record a reply to the worker; returns the receipt hash for the status board (None: no board)."""
        text = _entry_text(text, MAX_REPLY, "bad reply")
        self.store.get_case(case_id)
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO replies (case_id, at, user, text, sms) VALUES (?, ?, ?, ?, ?)",
                (case_id, _now(), self.keys.user, text, int(sms)),
            )
            conn.execute(
                "UPDATE cases SET first_response_at = ? WHERE id = ? AND first_response_at = ''", (_now(), case_id)
            )
            self._audit(conn, "reply", case_id, {"sms": sms})
        return self.store.receipt_hash(case_id)

    def contact(self, case_id: int) -> tuple[str, str] | None:
        """(phone, name) where the worker agreed to contact and the case is open; decrypted in memory."""
        record = self.store.contact(case_id)
        if record is None:
            return None
        with self.store._lock:
            items = [
                r[0]
                for r in self.store._conn.execute("SELECT item_id FROM drained_items WHERE case_id = ?", (case_id,))
            ]
        for item_id in items:
            ctx = str(item_id).encode()
            try:
                case_key = decrypt_field(self.keys.contact_key, record.wrapped_key, context=b"case-key:" + ctx)
                doc = json.loads(decrypt_field(case_key, record.blob, context=ctx))
                return str(doc.get("phone", "")), str(doc.get("name", ""))
            except CannotOpen:
                continue
        return None


def _entry_text(text: str, limit: int, problem: str) -> str:
    """A note's or reply's text, trimmed; missing or longer than ``limit`` is an InvalidInput."""
    text = text.strip()
    if not text or len(text) > limit:
        raise InvalidInput(problem, fields={"text": "missing" if not text else "too_long"})
    return text


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def overdue_days(case: Stage, deadlines: Mapping[str, int], now: datetime) -> int:
    """Whole days the case is past its stage's target (at least 1 once past it); 0 when on time or no target."""
    days = deadlines.get(case.status)
    if days is None:
        return 0
    late = _aware(now) - (case.since + timedelta(days=days))
    if late <= timedelta(0):
        return 0
    return max(1, late.days)


def is_closed(case: Case) -> bool:
    return case.status in CLOSED


__all__ = [
    "BOARD",
    "CLOSED",
    "TRANSITIONS",
    "CaseWork",
    "Change",
    "Channel",
    "Entry",
    "Filters",
    "Stage",
    "is_closed",
    "overdue_days",
]
