"""The node's durable outbox in cases.db (``relay_outbox``): approved summaries, sealed, waiting to go.

``queue`` seals an approved summary once per partner, each under its own case reference and the
partner's next sequence number, inside the approval's own transaction; ``relay.transport`` sends
what is pending and records here what happened (delivered with the partner's receipt, failed and
when to retry, exported to a folder, or cancelled and why). Only sealed bytes are kept.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from nacl.public import PublicKey

from crypto import NodeKeys
from crypto.envelope import seal
from intake import clock
from intake.errors import InvalidInput
from intake.store.cases import CasesStore
from relay import files
from relay.partners import Partner, Partners, record
from relay.summary import REF_LABEL, CaseSummary, Draft


@dataclass(frozen=True)
class OutboxRow:
    envelope_id: str
    partner: str
    case_id: int | None
    sequence: int
    created_at: str
    attempts: int
    next_at: str
    last_error: str
    exported_at: str
    delivered_at: str
    cancelled: str


class Outbox:
    def __init__(self, store: CasesStore, keys: NodeKeys) -> None:
        self.store = store
        self.keys = keys
        self.registry = Partners(store, keys)

    # -- the approval's side: sealing, cancelling, counting (inside the caller's transaction) ---------

    def queue(
        self, conn: Any, case_id: int, draft: Draft, partners: Sequence[Partner], summary_hash: str, now: datetime
    ) -> int:
        """Seal ``draft`` for every partner and queue the envelopes; returns how many."""
        ref_key = self.keys.key(REF_LABEL)
        queued = 0
        for partner in partners:
            summary = draft.for_partner(ref_key, partner.box_key)
            # Files a coordinator approved for this partner travel with the summary (relay/files.py):
            # as many as fit in one envelope, the rest each in another one with the same summary.
            groups, _too_big = files.pack(summary, files.pending_copies(conn, case_id, partner.id))
            for group in groups:
                self._seal_one(conn, case_id, partner, summary, group, summary_hash, now)
                queued += 1
        return queued

    def _seal_one(
        self,
        conn: Any,
        case_id: int,
        partner: Partner,
        summary: CaseSummary,
        group: Sequence[files.RelayFile],
        summary_hash: str,
        now: datetime,
    ) -> str:
        signing = self.keys.signing_key
        (sequence,) = conn.execute(
            "UPDATE relay_partners SET sequence = sequence + 1 WHERE id = ? RETURNING sequence", (partner.id,)
        ).fetchone()
        envelope_id = secrets.token_hex(16)
        data = seal(
            files.payload(summary, group),
            sender=signing,
            recipient=PublicKey(partner.box_key),
            sequence=int(sequence),
            created_at=now,
            envelope_id=envelope_id,
        )
        conn.execute(
            "INSERT INTO relay_outbox (envelope_id, partner_id, case_id, sequence, summary_hash, envelope, "
            "created_at, next_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (envelope_id, partner.id, case_id, int(sequence), summary_hash, data, now.isoformat(), now.isoformat()),
        )
        if group:
            files.sealed_in(conn, case_id, partner.id, group, envelope_id)
            for f in group:
                detail = {"n": f.n, "partner": partner.name, "sha256": f.sha256, "envelope_id": envelope_id}
                record(conn, self.keys, "relay_file_seal", case_id, detail)
        return envelope_id

    @staticmethod
    def cancel_case(conn: Any, case_id: int, reason: str) -> int:
        """Cancel every envelope of a case not yet delivered; returns how many."""
        cur = conn.execute(
            "UPDATE relay_outbox SET cancelled = ? WHERE case_id = ? AND delivered_at = '' AND cancelled = ''",
            (reason, case_id),
        )
        return int(cur.rowcount)

    @staticmethod
    def tally(conn: Any, case_id: int) -> tuple[int, int]:
        """(envelopes queued for this case ever, of them delivered)."""
        queued, delivered = conn.execute(
            "SELECT COUNT(*), COUNT(NULLIF(delivered_at, '')) FROM relay_outbox WHERE case_id = ?", (case_id,)
        ).fetchone()
        return int(queued), int(delivered)

    # -- the transport's side: what is pending, and what became of it ----------------------------------

    def rows(self, *, pending_only: bool = False, limit: int = 500) -> list[OutboxRow]:
        where = "WHERE o.delivered_at = '' AND o.cancelled = ''" if pending_only else ""
        with self.store.reading() as conn:
            sql = (
                "SELECT o.envelope_id, p.name, o.case_id, o.sequence, o.created_at, o.attempts, o.next_at, "  # noqa: S608 - fixed clauses
                "o.last_error, o.exported_at, o.delivered_at, o.cancelled FROM relay_outbox o "
                f"JOIN relay_partners p ON p.id = o.partner_id {where} ORDER BY o.created_at, o.partner_id, o.sequence LIMIT ?"
            )
            rows = conn.execute(sql, (limit,)).fetchall()
        return [OutboxRow(*r) for r in rows]

    def envelope(self, envelope_id: str) -> tuple[Partner, bytes, int | None]:
        with self.store.reading() as conn:
            row = conn.execute(
                "SELECT partner_id, envelope, case_id FROM relay_outbox WHERE envelope_id = ?", (envelope_id,)
            ).fetchone()
        if row is None:
            raise InvalidInput("no such envelope", fields={"envelope": "unknown"})
        return self.registry.get(int(row[0])), bytes(row[1]), row[2]

    def still_allowed(self, case_id: int | None) -> str:
        """'' when a queued envelope of this case may still go, else why not (consent withdrawn, ...)."""
        if case_id is None:
            return "case deleted"
        with self.store.reading() as conn:
            row = conn.execute("SELECT consent, status FROM cases WHERE id = ?", (case_id,)).fetchone()
        if row is None:
            return "case deleted"
        if int(row[0]) < 1:
            return "consent withdrawn"
        if row[1] == "withdrawn":
            return "case withdrawn"
        return ""

    def cancel(self, envelope_id: str, reason: str) -> None:
        with self.store.transaction() as conn:
            conn.execute("UPDATE relay_outbox SET cancelled = ? WHERE envelope_id = ?", (reason, envelope_id))

    def delivered(self, envelope_id: str, receipt: bytes, received_at: datetime) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE relay_outbox SET delivered_at = ?, receipt = ?, last_error = '' WHERE envelope_id = ?",
                (received_at.isoformat(), receipt, envelope_id),
            )

    def failed(self, envelope_id: str, error: str, retry_in: timedelta) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE relay_outbox SET attempts = attempts + 1, last_error = ?, next_at = ? WHERE envelope_id = ?",
                (error[:300], (clock.now_s() + retry_in).isoformat(), envelope_id),
            )

    def exported(self, envelope_ids: Sequence[str]) -> None:
        now = clock.now_s().isoformat()
        with self.store.transaction() as conn:
            conn.executemany(
                "UPDATE relay_outbox SET exported_at = ? WHERE envelope_id = ?", [(now, i) for i in envelope_ids]
            )
