"""Retention (issue 17 item 4): a closed case's words destroyed after ``retention_days``, its
statistics kept; inbox items never drained destroyed after ``inbox_retention_days``.

What goes, for a case closed (resolved, closed without remedy, withdrawn) ``retention_days`` ago,
counted from when it closed (``closed_at``; ``status_since`` for a case closed before that was kept):

- the worker's words: description, location, the factory as the worker wrote it when the case is
  linked to a registered factory (the register's name stays; an unregistered name is what the
  statistics count the case under, so it stays), follow-ups, call recordings, evidence files
  (cleaned copies and originals) and the links to the provider's messages that carried them;
- the caseworkers' words: notes, replies, a corrective action's text and evidence note, the relay
  narrative and the names it listed, the text of partners' messages about the case;
- the contact (shredded at closing already; again here) and the keyed link to the worker's number;
- on the local inbox, the replies on the worker's status board.

What stays: the case's row with its codes and dates (channel, locale, categories, severity, status,
factory id, workers affected, created, first response, closed), remedy outcomes and the worker's
confirmation, the audit log, and the relay's ledger: whatever :mod:`intake.stats` and the partner
summaries count. The case is marked ``expired_at`` and the desk says its words were destroyed.

How: ``secure_delete`` is on for every store connection (intake/store/db.py), so freed pages and
cells are overwritten; FTS5 ``secure-delete`` (cases migration 17) takes the terms out of the search
index at once; each run ends with a WAL checkpoint so no earlier frame keeps an old page. Cases
go in batches, each its own write transaction: a drain, a caseworker, or a panic in between waits
at most one batch, and a case is destroyed whole or not at all. One audit entry per case (counts
only, never words); the inbox side has no audit log of its own: its counts are audited on the case
store of the node that ran it and logged as a count.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from crypto import NodeKeys
from crypto.files import write_private_file
from intake import audit, clock
from intake.domain import CaseStatus
from intake.node import open_inbox
from intake.settings import Settings
from intake.store.cases import CasesStore
from intake.store.db import Connection
from intake.store.inbox import Inbox, arrival_day

log = logging.getLogger("intake.retention")

CLOSED = (CaseStatus.RESOLVED.value, CaseStatus.CLOSED_UNRESOLVED.value, CaseStatus.WITHDRAWN.value)
CASES_PER_BATCH = 20  # one write transaction: a drain waits for at most this many cases
ITEMS_PER_BATCH = 200
RECORD_NAME = "last-retention"
DAY = 86400

# (counter, statement) run for each expired case, in this order; each counts the rows it destroyed.
_DELETES: tuple[tuple[str, str], ...] = (
    ("notes", "DELETE FROM notes WHERE case_id = ?"),
    ("replies", "DELETE FROM replies WHERE case_id = ?"),
    ("followups", "DELETE FROM followups WHERE case_id = ?"),
    ("recordings", "DELETE FROM recordings WHERE case_id = ?"),
    ("files", "DELETE FROM attachments WHERE case_id = ?"),
    ("", "DELETE FROM media_links WHERE case_id = ?"),
    ("actions", "UPDATE actions SET action = '', evidence = '' WHERE case_id = ? AND (action != '' OR evidence != '')"),
    ("", "UPDATE relay_reviews SET narrative = NULL, names = '[]' WHERE case_id = ?"),
    ("partner_messages", "UPDATE partner_messages SET text = '' WHERE case_id = ? AND text != ''"),
)
_CASE = (
    "UPDATE cases SET description = '', location = '', "
    "factory = CASE WHEN factory_id IS NULL THEN factory ELSE '' END, "
    "contact_key = NULL, contact = NULL, reporter_link = NULL, "
    "expired_at = ?, updated_at = ?, version = version + 1 WHERE id = ? AND expired_at = ''"
)


@dataclass
class Outcome:
    """What a run destroyed (with ``dry_run``: would destroy). Counts only, never words."""

    dry_run: bool
    case_days: int  # 0: cases are kept
    inbox_days: int  # 0: inbox items are kept
    cases: int = 0
    case_ids: list[int] = field(default_factory=list)
    notes: int = 0
    replies: int = 0
    followups: int = 0
    recordings: int = 0
    files: int = 0
    actions: int = 0
    partner_messages: int = 0
    board_messages: int = 0
    inbox_items: int = 0
    inbox_files: int = 0
    stopped: bool = False  # ``stop`` said so between batches: the rest waits for the next run

    @property
    def destroyed(self) -> bool:
        return not self.dry_run and bool(self.cases or self.inbox_items or self.board_messages)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def case_cutoff(days: int, now: datetime | None = None) -> datetime:
    """Cases closed before this instant are past a ``days``-day retention."""
    return (now or clock.now_s()).replace(microsecond=0) - timedelta(days=days)


def due_cases(conn: Connection, days: int, now: datetime | None = None, limit: int | None = None) -> list[int]:
    """Ids of closed cases past ``days`` of retention whose words are still there, oldest first."""
    if days <= 0:
        return []
    cutoff = case_cutoff(days, now)
    # ISO strings of one form compare like their times; the exact check below parses each (a date
    # written another way, e.g. with microseconds, is judged by its value, not its spelling)
    sql = (
        "SELECT id, COALESCE(NULLIF(closed_at, ''), NULLIF(status_since, ''), created_at) AS closed FROM cases "  # noqa: S608
        f"WHERE status IN ({','.join('?' * len(CLOSED))}) AND expired_at = '' AND closed < ? ORDER BY closed, id"
    )
    rows = conn.execute(sql, (*CLOSED, (cutoff + timedelta(days=1)).isoformat())).fetchall()
    out = [int(i) for i, closed in rows if _aware(datetime.fromisoformat(str(closed))) < cutoff]
    return out if limit is None else out[:limit]


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _count(conn: Connection, case_id: int) -> dict[str, int]:
    """What expiring the case would destroy, for a dry run."""
    out = {}
    for name, statement in _DELETES:
        if not name:
            continue
        table = statement.split()[2] if statement.startswith("DELETE") else statement.split()[1]
        where = statement.split(" WHERE ", 1)[1]
        out[name] = int(conn.execute(f"SELECT count(*) FROM {table} WHERE {where}", (case_id,)).fetchone()[0])  # noqa: S608
    return out


def expire_case(conn: Connection, case_id: int, at: str, cutoff: datetime) -> dict[str, int] | None:
    """Destroy one closed case's words inside the caller's write transaction; the counts destroyed.

    None, with nothing changed, when the case is no longer due: expired already, reopened or closed
    again since it was listed (read again here, inside the transaction that would destroy it).
    """
    row = conn.execute(
        "SELECT status, expired_at, COALESCE(NULLIF(closed_at, ''), NULLIF(status_since, ''), created_at) "
        "FROM cases WHERE id = ?",
        (case_id,),
    ).fetchone()
    if row is None or row[0] not in CLOSED or row[1] != "" or _aware(datetime.fromisoformat(str(row[2]))) >= cutoff:
        return None
    counts: dict[str, int] = {}
    for name, statement in _DELETES:
        cur = conn.execute(statement, (case_id,))
        if name:
            counts[name] = max(0, int(cur.rowcount))
    conn.execute(_CASE, (at, at, case_id))
    return counts


def expire_cases(
    store: CasesStore,
    keys: NodeKeys,
    days: int,
    *,
    out: Outcome,
    inbox: Inbox | None = None,
    stop: Callable[[], bool] | None = None,
) -> None:
    """Expire every case past ``days`` of retention, a batch per write transaction, into ``out``."""
    if days <= 0:
        return
    now = clock.now_s()
    cutoff = case_cutoff(days, now)
    with store._lock:
        due = due_cases(store._conn, days, now)
    if out.dry_run:
        with store._lock:
            for case_id in due:
                _add(out, case_id, _count(store._conn, case_id))
        out.board_messages += _board(inbox, _receipts(store, due), dry_run=True)
        return
    key = audit.audit_key(keys)
    at = now.isoformat()
    for start in range(0, len(due), CASES_PER_BATCH):
        if stop is not None and stop():
            out.stopped = True
            return
        done: list[int] = []
        with store.transaction() as conn:
            for case_id in due[start : start + CASES_PER_BATCH]:
                counts = expire_case(conn, case_id, at, cutoff)
                if counts is None:
                    continue
                detail: dict[str, Any] = {"days": days, **{k: v for k, v in counts.items() if v}}
                audit.record(conn, key, user=keys.user, action="retention.expire", case_id=case_id, detail=detail)
                _add(out, case_id, counts)
                done.append(case_id)
        out.board_messages += _board(inbox, _receipts(store, done), dry_run=False)
        log.info("retention: words of %d closed cases destroyed", len(done))


def _add(out: Outcome, case_id: int, counts: dict[str, int]) -> None:
    out.cases += 1
    out.case_ids.append(case_id)
    for name, n in counts.items():
        setattr(out, name, getattr(out, name) + n)


def _receipts(store: CasesStore, case_ids: Sequence[int]) -> list[bytes]:
    if not case_ids:
        return []
    marks = ",".join("?" * len(case_ids))
    with store._lock:
        rows = store._conn.execute(
            f"SELECT receipt_hash FROM cases WHERE id IN ({marks}) AND receipt_hash IS NOT NULL",  # noqa: S608
            list(case_ids),
        ).fetchall()
    return [bytes(r[0]) for r in rows]


def _board(inbox: Inbox | None, receipts: Sequence[bytes], *, dry_run: bool) -> int:
    """The caseworkers' replies on these workers' status boards (the local inbox), destroyed or
    counted; the status itself stays ("closed"). A remote intake's board is not reached from here."""
    if inbox is None or not receipts:
        return 0
    marks = ",".join("?" * len(receipts))
    where = f"FROM board_messages WHERE receipt_hash IN ({marks})"
    if dry_run:
        with inbox._lock:
            return int(inbox._conn.execute(f"SELECT count(*) {where}", list(receipts)).fetchone()[0])
    with inbox.transaction() as conn:
        return max(0, int(conn.execute(f"DELETE {where}", list(receipts)).rowcount))


def expire_inbox(inbox: Inbox, days: int, *, out: Outcome, stop: Callable[[], bool] | None = None) -> None:
    """Destroy inbox items (with their sealed files) that arrived more than ``days`` days ago and
    were never drained, a batch per transaction. An item of an earlier release (no arrival day) is
    given today's first: it is kept ``days`` days from the first run that sees it."""
    if days <= 0:
        return
    # whole days: an item stamped with the start of its day is kept at least ``days`` full days
    cutoff = int(clock.time()) - (days + 1) * DAY
    select = "SELECT id FROM items WHERE received_at > 0 AND received_at < ? ORDER BY seq LIMIT ?"
    if out.dry_run:
        with inbox._lock:
            conn = inbox._conn
            out.inbox_items += int(
                conn.execute(
                    "SELECT count(*) FROM items WHERE received_at > 0 AND received_at < ?", (cutoff,)
                ).fetchone()[0]
            )
            out.inbox_files += int(
                conn.execute(
                    "SELECT count(*) FROM (SELECT DISTINCT a.item_id, a.n FROM attachments a JOIN items i "
                    "ON i.id = a.item_id WHERE i.received_at > 0 AND i.received_at < ?)",
                    (cutoff,),
                ).fetchone()[0]
            )
        return
    with inbox.transaction() as conn:
        conn.execute("UPDATE items SET received_at = ? WHERE received_at = 0", (arrival_day(),))
    while True:
        if stop is not None and stop():
            out.stopped = True
            return
        with inbox.transaction() as conn:
            ids = [str(r[0]) for r in conn.execute(select, (cutoff, ITEMS_PER_BATCH)).fetchall()]
            files = 0
            for item_id in ids:
                files += int(
                    conn.execute(
                        "SELECT count(*) FROM (SELECT DISTINCT n FROM attachments WHERE item_id = ?)", (item_id,)
                    ).fetchone()[0]
                )
                conn.execute("DELETE FROM attachments WHERE item_id = ?", (item_id,))
                conn.execute("DELETE FROM items WHERE id = ?", (item_id,))
        out.inbox_items += len(ids)
        out.inbox_files += files
        if ids:  # a count only: the inbox has no audit log, and an item's id says nothing anyway
            log.info("retention: %d inbox items never drained destroyed (%d files)", len(ids), files)
        if len(ids) < ITEMS_PER_BATCH:
            return


def checkpoint(conn: Connection) -> None:
    """Write the WAL back and empty it: an earlier frame must not keep a page retention wiped. Best
    effort: a reader in the middle of a transaction keeps its frames until the next run."""
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()


def run(
    settings: Settings,
    store: CasesStore,
    keys: NodeKeys,
    *,
    dry_run: bool = False,
    stop: Callable[[], bool] | None = None,
) -> Outcome:
    """One retention run on a node: its closed cases past ``retention_days``, then its local inbox's
    items past ``inbox_retention_days`` (when the node has an inbox here). With ``dry_run`` nothing
    is written: the outcome counts what a run would destroy now."""
    out = Outcome(dry_run=dry_run, case_days=settings.retention_days, inbox_days=settings.inbox_retention_days)
    inbox = _local_inbox(settings)
    try:
        for each in (store, inbox):  # on already (intake/store/db.py); again, whoever turned it off
            if each is not None:
                with each._lock:
                    each._conn.execute("PRAGMA secure_delete = ON")
        expire_cases(store, keys, settings.retention_days, out=out, inbox=inbox, stop=stop)
        if inbox is not None and not out.stopped:
            expire_inbox(inbox, settings.inbox_retention_days, out=out, stop=stop)
        if out.inbox_items and not dry_run:
            with store.transaction() as conn:
                detail = {"days": settings.inbox_retention_days, "items": out.inbox_items, "files": out.inbox_files}
                audit.record(
                    conn, audit.audit_key(keys), user=keys.user, action="retention.inbox", case_id=None, detail=detail
                )
        if out.destroyed:
            with store._lock:
                checkpoint(store._conn)
            if inbox is not None:
                with inbox._lock:
                    checkpoint(inbox._conn)
            record_run(settings.home, clock.now_s())
    finally:
        if inbox is not None:
            inbox.close()
    return out


def _local_inbox(settings: Settings) -> Inbox | None:
    if not settings.inbox_path.exists() or not settings.intake_key_path.exists():
        return None  # a desk-only node, or one draining a remote intake: that intake's own run
    return open_inbox(settings)


# -- when words were last destroyed, for ``intake doctor`` (no passphrase needed to read it) ---------
def record_run(home: Path, at: datetime) -> None:
    """Note that a run destroyed words at ``at``: a backup made before then still holds them.
    The time only, like ``last-backup`` (intake/backup_record.py): no case, no count."""
    write_private_file(Path(home) / RECORD_NAME, json.dumps({"version": 1, "destroyed_at": at.isoformat()}).encode())


def last_run(home: Path) -> datetime | None:
    """When a retention run last destroyed words; None when never (or the record is unreadable)."""
    try:
        raw = json.loads((Path(home) / RECORD_NAME).read_bytes())
        when = datetime.fromisoformat(str(raw["destroyed_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return _aware(when)
