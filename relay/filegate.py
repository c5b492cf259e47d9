"""The review gate for evidence files (issue 16 item 7): approve ONE file for ONE partner.

Nothing of a file leaves unless a coordinator approved it for that partner, after seeing the copy
that would leave (``relay.files.copy_of``); the approval is bound to that copy's SHA-256, and the
case's summary must be allowed to leave too (consent, not withdrawn). An approved file waits for
the case's approved summary and travels in its envelope: at once when the summary is approved and
current, else with the next approval of the summary. Every step is in the audit log (numbers,
hashes and partner names, never content).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from crypto import NodeKeys
from intake import clock
from intake.errors import InvalidInput, NotEligible, Stale
from intake.store import attachments
from intake.store.attachments import AttachmentInfo
from intake.store.cases import CasesStore
from relay import files
from relay.files import FileApproval, NotRelayable, RelayFile
from relay.outbox import Outbox
from relay.partners import Partner, Partners, record
from relay.summary import Draft


class _Review(Protocol):
    @property
    def state(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def content_hash(self) -> str: ...
    @property
    def draft(self) -> Draft: ...


class Gate(Protocol):
    """What this module needs of relay.gate.Gate (which builds on this module, not the reverse)."""

    store: CasesStore
    keys: NodeKeys
    registry: Partners
    outbox: Outbox

    def review(self, case_id: int) -> _Review: ...


@dataclass(frozen=True)
class FileRow:
    """One file of a case as the relay review page shows it."""

    info: AttachmentInfo
    copy: RelayFile | None  # the copy that would leave; None when it cannot (see ``why_not``)
    why_not: str  # "" | missing | document | too_large
    approvals: tuple[FileApproval, ...]

    def approval(self, partner_id: int) -> FileApproval | None:
        return next((a for a in self.approvals if a.partner_id == partner_id), None)


class FileGate:
    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.store = gate.store
        self.keys = gate.keys

    def copy(self, case_id: int, n: int) -> RelayFile:
        """The copy of file ``n`` that would leave (the review page shows it). Raises NotRelayable."""
        with self.store.reading() as conn:
            return files.copy_of(conn, case_id, n)

    def review(self, case_id: int) -> list[FileRow]:
        """Every file of the case, each with the copy that would leave and its approvals."""
        summary = self.gate.review(case_id).draft.summary
        out = []
        with self.store.reading() as conn:
            infos = [i for i in attachments.listing(conn, case_id) if not i.missing]
            given = files.approvals(conn, case_id)
            for info in infos:
                copy: RelayFile | None = None
                why = ""
                try:
                    copy = files.copy_of(conn, case_id, info.n)
                    if not files.fits(summary, [copy]):
                        copy, why = None, "too_large"
                except NotRelayable as exc:
                    why = exc.reason
                out.append(FileRow(info, copy, why, tuple(a for a in given if a.n == info.n)))
        return out

    def _partner(self, partner_id: int) -> Partner:
        for p in self.gate.registry.all():
            if p.id == partner_id:
                return p
        raise InvalidInput("no such partner", fields={"partner": "unknown"})

    def approve(self, case_id: int, n: int, partner_id: int, shown_sha256: str) -> int:
        """Approve file ``n`` for one partner, bound to the copy the coordinator saw (its SHA-256).
        Returns how many envelopes were sealed now (0: it waits for the summary's approval)."""
        review = self.gate.review(case_id)
        if review.state in ("not_shared", "withdrawn", "needs_confirmation"):
            raise NotEligible(f"case {case_id} cannot be shared: {review.reason}")
        partner = self._partner(partner_id)
        pid, name = partner.id, partner.name
        now = clock.now_s()
        with self.store.transaction() as conn:
            copy = files.copy_of(conn, case_id, n)
            if copy.sha256 != shown_sha256:
                raise Stale(f"case {case_id}: file {n} is not the copy that was shown; look at it again")
            if not files.fits(review.draft.summary, [copy]):
                raise NotRelayable("too_large", "this file is too large to travel with the summary")
            conn.execute(
                "INSERT OR REPLACE INTO relay_file_approvals (case_id, n, partner_id, sha256, type, bytes, "
                "approved_by, approved_at, envelope_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '')",
                (case_id, n, pid, copy.sha256, copy.type, copy.size, self.keys.user, now.isoformat()),
            )
            detail = {"n": n, "partner": name, "sha256": copy.sha256, "bytes": copy.size}
            record(conn, self.keys, "relay_file_approve", case_id, detail)
            row = conn.execute("SELECT approved_hash FROM relay_reviews WHERE case_id = ?", (case_id,)).fetchone()
            approved = row[0] if row else ""
            if review.state != "approved" or approved != review.content_hash:
                return 0  # it leaves with the next approval of the summary
            # The summary is approved and current: the file leaves now, with it, to this partner only.
            return self.gate.outbox.queue(conn, case_id, review.draft, [partner], approved, now)

    def withdraw(self, case_id: int, n: int, partner_id: int) -> int:
        """Take back a file's approval for one partner; the envelope carrying it is cancelled if it
        has not been delivered (with the summary in it). Returns how many envelopes were cancelled."""
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT envelope_id FROM relay_file_approvals WHERE case_id = ? AND n = ? AND partner_id = ?",
                (case_id, n, partner_id),
            ).fetchone()
            if row is None:
                raise InvalidInput("this file is not approved for this partner", fields={"file": "not_approved"})
            conn.execute(
                "DELETE FROM relay_file_approvals WHERE case_id = ? AND n = ? AND partner_id = ?",
                (case_id, n, partner_id),
            )
            cancelled = 0
            if row[0]:
                cur = conn.execute(
                    "UPDATE relay_outbox SET cancelled = 'file approval withdrawn' "
                    "WHERE envelope_id = ? AND delivered_at = '' AND cancelled = ''",
                    (row[0],),
                )
                cancelled = int(cur.rowcount)
            (name,) = conn.execute("SELECT name FROM relay_partners WHERE id = ?", (partner_id,)).fetchone()
            record(conn, self.keys, "relay_file_withdraw", case_id, {"n": n, "partner": name, "cancelled": cancelled})
        return cancelled
