"""The public complaints table, in the Bangladesh Accord's style: one row per case (factory, month,
category, status, outcome), for the public to read.

A case's row is there only when both hold:

- its worker consented to the fullest sharing (``CaseSummary.full_sharing``: consent 2, "with my
  name"; consent 1 lets a group share an anonymised summary with partners, not publish it), in the
  newest summary received, and the case was not withdrawn;
- a coordinator of the partner approved exactly that row (``intake partner complaints approve``):
  the approval is bound to the row's hash, so a row whose status or outcome changed since waits for
  approval again and is not shown meanwhile.

A row carries no narrative, no reference, no date finer than the month and no count of workers; its
outcome is the kinds of remedy and how each was verified, without amounts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from crypto.keyring import Role
from intake import clock
from intake.errors import Forbidden
from relay.partner.remedy import state_of
from relay.partner.store import PartnerStore, Version
from relay.summary import canonical

HASH_SHOWN = 12  # hex characters a coordinator reads and types


@dataclass(frozen=True)
class PublicRow:
    node: str
    case_ref: str
    factory: str
    country: str
    month: str
    categories: tuple[str, ...]
    status: str  # the remedy state where there is one (in_remedy, resolved_confirmed, ...), else the status
    outcome: tuple[tuple[str, str], ...]  # (kind, verified_by), each once

    @property
    def content(self) -> dict[str, object]:
        """What is published (and hashed): no node, no reference."""
        return {
            "factory": self.factory, "country": self.country, "month": self.month,
            "categories": list(self.categories), "status": self.status, "outcome": [list(o) for o in self.outcome],
        }  # fmt: skip

    @property
    def row_hash(self) -> str:
        return hashlib.sha256(canonical(self.content)).hexdigest()


def row_of(v: Version) -> PublicRow | None:
    """The public row of a case's newest summary; None when its worker did not consent to full sharing."""
    s = v.summary
    if not s.full_sharing or s.status == "withdrawn":
        return None
    state = state_of(s)
    done = [*s.outcomes, *(a.outcome for a in s.remedy if a.done and a.outcome is not None)]
    outcome = tuple(dict.fromkeys((o.kind.value, o.verified_by.value) for o in done))
    return PublicRow(
        v.node, s.case_ref, s.factory.name, s.factory.country, s.first_reported, tuple(s.categories),
        state.value if state is not None else s.status, outcome,
    )  # fmt: skip


def eligible(store: PartnerStore) -> list[PublicRow]:
    """Every row that may be published once approved, newest month first."""
    rows = sorted(
        (r for v, _n in store.latest() if (r := row_of(v)) is not None),
        key=lambda r: (r.factory.casefold(), r.node, r.case_ref),
    )
    return sorted(rows, key=lambda r: r.month, reverse=True)  # stable: by factory within a month


def approvals(store: PartnerStore) -> dict[tuple[str, str], str]:
    with store.reading() as conn:
        rows = conn.execute("SELECT node_name, case_ref, row_hash FROM public_rows").fetchall()
    return {(str(n), str(r)): str(h) for n, r, h in rows}


def pending(store: PartnerStore) -> list[PublicRow]:
    """Rows waiting for a coordinator: never approved, or changed since the approval."""
    approved = approvals(store)
    return [r for r in eligible(store) if approved.get((r.node, r.case_ref)) != r.row_hash]


def table(store: PartnerStore) -> list[PublicRow]:
    """The public table: rows whose current content a coordinator approved."""
    approved = approvals(store)
    return [r for r in eligible(store) if approved.get((r.node, r.case_ref)) == r.row_hash]


def find(store: PartnerStore, case_ref: str, node: str | None = None) -> list[PublicRow]:
    """The eligible rows of a case reference (two nodes may, rarely, have sent the same one)."""
    ref = case_ref.strip().lower()
    return [r for r in eligible(store) if r.case_ref == ref and (node is None or r.node == node)]


def approve(store: PartnerStore, row: PublicRow, *, user: str, role: str) -> None:
    """Approve ``row`` as it is now (coordinators only)."""
    _coordinator(role)
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO public_rows (node_name, case_ref, row_hash, approved_at, user) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (node_name, case_ref) DO UPDATE SET row_hash = excluded.row_hash, "
            "approved_at = excluded.approved_at, user = excluded.user",
            (row.node, row.case_ref, row.row_hash, clock.now_s().isoformat(), user),
        )


def revoke(store: PartnerStore, case_ref: str, *, node: str | None = None, role: str) -> int:
    """Withdraw the approval of a case's row (it leaves the table at once); returns how many went."""
    _coordinator(role)
    ref = case_ref.strip().lower()
    with store.transaction() as conn:
        if node is None:
            cur = conn.execute("DELETE FROM public_rows WHERE case_ref = ?", (ref,))
        else:
            cur = conn.execute("DELETE FROM public_rows WHERE case_ref = ? AND node_name = ?", (ref, node))
        return int(cur.rowcount)


def _coordinator(role: str) -> None:
    if role != Role.COORDINATOR:
        raise Forbidden(f"only a coordinator approves public rows ({role})")
