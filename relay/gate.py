"""The node's side of the relay: partners, the review gate, and the durable outbox in cases.db.

A summary leaves only when all of these hold, checked when it is queued and again when it is sent:

- the worker's consent is 1 (anonymised summary) or 2 (with name; then a coordinator must also
  confirm it for this case explicitly), and the case is not withdrawn;
- a coordinator approved exactly this content: the approval is bound to the summary's content hash,
  so any change (a new status, an edited narrative, another name to remove) needs approval again.

Approving seals the summary once per registered partner (each under its own case reference) and
queues the envelopes; ``relay.transport`` sends them. Every edit, approval and withdrawal is in the
hash-chained audit log (hashes and counts only, never the text).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from nacl.public import PublicKey

from crypto import NodeKeys
from crypto.envelope import parse_partner_key, seal
from intake import audit, clock
from intake.errors import IntakeError, InvalidInput
from intake.store.cases import CaseNotFound, CasesStore
from relay.summary import MAX_NARRATIVE, REF_LABEL, CaseFacts, Draft, FactoryRecord, build

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")
MAX_NAMES = 50


class RelayError(IntakeError):
    status = 409
    code = "relay"


class NotEligible(RelayError):
    """The case may not leave (no consent, withdrawn, consent 2 unconfirmed)."""


class Stale(RelayError):
    """The summary changed between showing and approving it."""


@dataclass(frozen=True)
class Partner:
    id: int
    name: str
    box_key: bytes
    receipt_key: bytes
    url: str
    token: str
    added_at: str


@dataclass(frozen=True)
class Review:
    """One case as the review page shows it."""

    case_id: int
    consent: int
    state: str  # not_shared | withdrawn | needs_confirmation | to_review | changed | approved
    draft: Draft
    names: tuple[str, ...]
    named_confirmed: bool
    edited: bool  # the coordinator edited the narrative
    approved_by: str
    approved_at: str
    queued: int  # envelopes queued for this case, ever
    delivered: int

    @property
    def content_hash(self) -> str:
        return self.draft.content_hash

    @property
    def reason(self) -> str:
        return {
            "not_shared": "the worker did not consent to sharing (consent 0)",
            "withdrawn": "the case was withdrawn",
            "needs_confirmation": "consent 2 (with name) needs an explicit confirmation for this case",
        }.get(self.state, "")


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


def _now() -> datetime:
    return clock.now_s()


def check_url(url: str) -> str:
    url = url.strip()
    if not url:
        return ""
    if url.startswith("https://") or url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]")):
        return url.rstrip("/")
    raise InvalidInput("a partner's inbox URL must be https:// (http:// only on loopback)", fields={"url": "invalid"})


class Relay:
    def __init__(self, store: CasesStore, keys: NodeKeys, *, patterns: Sequence[str] = ()) -> None:
        self.store = store
        self.keys = keys
        self.patterns = tuple(patterns)
        self._audit_key = audit.audit_key(keys)

    def _audit(self, conn: Any, action: str, case_id: int | None, detail: dict[str, Any]) -> None:
        audit.record(conn, self._audit_key, user=self.keys.user, action=action, case_id=case_id, detail=detail)

    # -- partners ------------------------------------------------------------------------------------

    def add_partner(self, name: str, key: str, *, url: str = "", token: str = "") -> Partner:
        name = name.strip()
        if not NAME.match(name):
            raise InvalidInput(
                "a partner's name: letters, digits, space . _ - (at most 64)", fields={"name": "invalid"}
            )
        try:
            box, receipts = parse_partner_key(key.strip())
        except ValueError as exc:
            raise InvalidInput(f"partner key: {exc}", fields={"key": "invalid"}) from None
        url = check_url(url)
        if token and not re.fullmatch(r"[A-Za-z0-9_\-.~+/=]{16,200}", token.strip()):
            raise InvalidInput("the partner's token does not look like one", fields={"token": "invalid"})
        with self.store.transaction() as conn:
            if conn.execute("SELECT 1 FROM relay_partners WHERE name = ? AND removed_at = ''", (name,)).fetchone():
                raise InvalidInput(f"a partner named {name!r} exists; remove it first", fields={"name": "taken"})
            conn.execute("DELETE FROM relay_partners WHERE name = ? AND removed_at != ''", (name,))
            if conn.execute(
                "SELECT 1 FROM relay_partners WHERE box_key = ? AND removed_at = ''", (bytes(box),)
            ).fetchone():
                raise InvalidInput("this partner key is registered already", fields={"key": "taken"})
            cur = conn.execute(
                "INSERT INTO relay_partners (name, box_key, receipt_key, url, token, added_at, added_by) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (name, bytes(box), bytes(receipts), url, token.strip(), _now().isoformat(), self.keys.user),
            )
            self._audit(conn, "relay_partner_add", None, {"partner": name})
        return self.partner(int(cur.lastrowid or 0))

    def partner(self, partner_id: int) -> Partner:
        with self.store._lock:
            row = self.store._conn.execute(
                "SELECT id, name, box_key, receipt_key, url, token, added_at FROM relay_partners WHERE id = ?",
                (partner_id,),
            ).fetchone()
        if row is None:
            raise InvalidInput("no such partner", fields={"partner": "unknown"})
        return Partner(int(row[0]), row[1], bytes(row[2]), bytes(row[3]), row[4], row[5], row[6])

    def partners(self) -> list[Partner]:
        with self.store._lock:
            rows = self.store._conn.execute(
                "SELECT id, name, box_key, receipt_key, url, token, added_at FROM relay_partners "
                "WHERE removed_at = '' ORDER BY name"
            ).fetchall()
        return [Partner(int(r[0]), r[1], bytes(r[2]), bytes(r[3]), r[4], r[5], r[6]) for r in rows]

    def remove_partner(self, name: str) -> int:
        """Forget a partner; envelopes not yet delivered to it are cancelled. Returns how many."""
        with self.store.transaction() as conn:
            row = conn.execute("SELECT id FROM relay_partners WHERE name = ? AND removed_at = ''", (name,)).fetchone()
            if row is None:
                raise InvalidInput(f"no partner named {name!r}", fields={"name": "unknown"})
            now = _now().isoformat()
            conn.execute("UPDATE relay_partners SET removed_at = ?, token = '' WHERE id = ?", (now, row[0]))
            cur = conn.execute(
                "UPDATE relay_outbox SET cancelled = ? WHERE partner_id = ? AND delivered_at = '' AND cancelled = ''",
                ("partner removed", row[0]),
            )
            self._audit(conn, "relay_partner_remove", None, {"partner": name, "cancelled": cur.rowcount})
        return int(cur.rowcount)

    # -- review --------------------------------------------------------------------------------------

    def _facts(self, conn: Any, case_id: int, narrative: str | None) -> tuple[CaseFacts, int]:
        row = conn.execute(
            "SELECT locale, created_at, status, severity, categories, workers_affected, factory, factory_id, "
            "description, consent FROM cases WHERE id = ?",
            (case_id,),
        ).fetchone()
        if row is None:
            raise CaseNotFound(f"case {case_id} does not exist")
        locale, created, status, severity, cats, workers, factory_text, factory_id, description, consent = row
        factory: FactoryRecord | None = None
        if factory_id is not None:
            f = conn.execute(
                "SELECT name, address, country, parent_company, brands, buyers, osh_id FROM factories WHERE id = ?",
                (factory_id,),
            ).fetchone()
            if f is not None:
                factory = FactoryRecord(
                    name=f[0][:400], address=f[1][:400], country=(f[2] or "")[:2], parent_company=f[3][:400],
                    brands=[b[:400] for b in json.loads(f[4] or "[]")][:50],
                    public_buyers=[b[:400] for b in json.loads(f[5] or "[]")][:50],
                    open_supply_hub_id=(f[6] or "")[:40], registered=True,
                )  # fmt: skip
        if narrative is None:
            parts = [description] + [
                t for (t,) in conn.execute("SELECT text FROM followups WHERE case_id = ? ORDER BY id", (case_id,))
            ]
            narrative = "\n\n".join(p for p in parts if p.strip())
        actions = tuple(
            (a, who, date.fromisoformat(due[:10]), bool(done))
            for a, who, due, done in conn.execute(
                "SELECT action, who, due, done_at FROM actions WHERE case_id = ? ORDER BY due, id", (case_id,)
            )
        )
        facts = CaseFacts(
            case_id=case_id, locale=locale, created_month=created[:7], status=status, severity=severity,
            categories=tuple(json.loads(cats or "[]")), workers_affected=int(workers or 1),
            factory_text=factory_text, factory=factory, words=narrative, actions=actions,
        )  # fmt: skip
        return facts, int(consent)

    def _contact_name(self, case_id: int) -> list[str]:
        from intake.store.casework import CaseWork

        try:
            contact = CaseWork(self.store, self.keys).contact(case_id)
        except Exception:
            return []
        return [v for v in (contact or ()) if v]

    def review(self, case_id: int) -> Review:
        with self.store._lock:
            conn = self.store._conn
            r = conn.execute(
                "SELECT narrative, names, named_confirmed, approved_hash, approved_by, approved_at "
                "FROM relay_reviews WHERE case_id = ?",
                (case_id,),
            ).fetchone()
            narrative, names_json, confirmed, approved_hash, approved_by, approved_at = r or (None, "[]", 0, "", "", "")
            facts, consent = self._facts(conn, case_id, narrative)
            queued, delivered = conn.execute(
                "SELECT COUNT(*), COUNT(NULLIF(delivered_at, '')) FROM relay_outbox WHERE case_id = ?", (case_id,)
            ).fetchone()
        names = tuple(json.loads(names_json or "[]"))
        draft = build(
            facts, node_id=self.keys.node_id, names=[*names, *self._contact_name(case_id)], patterns=self.patterns
        )
        if consent < 1:
            state = "not_shared"
        elif facts.status == "withdrawn":
            state = "withdrawn"
        elif consent == 2 and not confirmed:
            state = "needs_confirmation"
        elif not approved_hash:
            state = "to_review"
        elif approved_hash != draft.content_hash:
            state = "changed"
        else:
            state = "approved"
        return Review(
            case_id, consent, state, draft, names, bool(confirmed), narrative is not None,
            approved_by, approved_at, int(queued), int(delivered),
        )  # fmt: skip

    def save(
        self,
        case_id: int,
        *,
        narrative: str | None = None,
        names: Sequence[str] | None = None,
        workers_affected: int | None = None,
        named_confirmed: bool | None = None,
        reset_narrative: bool = False,
    ) -> Review:
        """Store the coordinator's edits of a case's summary (never approves anything by itself)."""
        if narrative is not None and len(narrative) > 8000:
            raise InvalidInput("the narrative is too long (at most 8000 characters)", fields={"narrative": "long"})
        if names is not None:
            names = [n.strip()[:100] for n in names if n.strip()][:MAX_NAMES]
        if workers_affected is not None and not 1 <= workers_affected <= 1_000_000:
            raise InvalidInput("workers affected: a number from 1", fields={"workers_affected": "invalid"})
        detail: dict[str, Any] = {}
        with self.store.transaction() as conn:
            if conn.execute("SELECT 1 FROM cases WHERE id = ?", (case_id,)).fetchone() is None:
                raise CaseNotFound(f"case {case_id} does not exist")
            conn.execute("INSERT OR IGNORE INTO relay_reviews (case_id) VALUES (?)", (case_id,))
            if reset_narrative:
                conn.execute("UPDATE relay_reviews SET narrative = NULL WHERE case_id = ?", (case_id,))
                detail["narrative"] = "reset"
            elif narrative is not None:
                conn.execute("UPDATE relay_reviews SET narrative = ? WHERE case_id = ?", (narrative.strip(), case_id))
                detail["narrative"] = "edited"
            if names is not None:
                conn.execute(
                    "UPDATE relay_reviews SET names = ? WHERE case_id = ?",
                    (json.dumps(list(dict.fromkeys(names)), ensure_ascii=False), case_id),
                )
                detail["names"] = len(names)
            if named_confirmed is not None:
                conn.execute(
                    "UPDATE relay_reviews SET named_confirmed = ? WHERE case_id = ?", (int(named_confirmed), case_id)
                )
                detail["named_confirmed"] = named_confirmed
            if workers_affected is not None:
                conn.execute("UPDATE cases SET workers_affected = ? WHERE id = ?", (workers_affected, case_id))
                detail["workers_affected"] = workers_affected
            self._audit(conn, "relay_edit", case_id, detail)
        return self.review(case_id)

    def approve(self, case_id: int, shown_hash: str) -> int:
        """Approve the summary the coordinator saw (``shown_hash``) and queue it for every partner.

        Returns how many envelopes were queued. Refused when the case may not leave, or when the
        summary is no longer what was shown.
        """
        review = self.review(case_id)
        names = [*review.names, *self._contact_name(case_id)]
        if review.state in ("not_shared", "withdrawn", "needs_confirmation"):
            raise NotEligible(f"case {case_id} cannot be shared: {review.reason}")
        if shown_hash != review.content_hash:
            raise Stale(f"case {case_id}: the summary changed since it was shown; review it again")
        partners = self.partners()
        ref_key = self.keys.key(REF_LABEL)
        signing = self.keys.signing_key
        now = _now()
        with self.store.transaction() as conn:
            # The hash again, inside the transaction: nothing may change between check and seal.
            facts, _ = self._facts(conn, case_id, self._narrative(conn, case_id))
            current = build(
                facts,
                node_id=self.keys.node_id,
                names=names,
                patterns=self.patterns,
            )
            if current.content_hash != shown_hash:
                raise Stale(f"case {case_id}: the summary changed since it was shown; review it again")
            conn.execute("INSERT OR IGNORE INTO relay_reviews (case_id) VALUES (?)", (case_id,))
            has_contact = conn.execute("SELECT contact IS NOT NULL FROM cases WHERE id = ?", (case_id,)).fetchone()[0]
            conn.execute(
                "UPDATE relay_reviews SET approved_hash = ?, approved_by = ?, approved_at = ?, approved_inputs = ? "
                "WHERE case_id = ?",
                (
                    shown_hash,
                    self.keys.user,
                    now.isoformat(),
                    self._inputs(facts, review.names, bool(has_contact)),
                    case_id,
                ),
            )
            queued = 0
            for partner in partners:
                summary = current.for_partner(ref_key, partner.box_key)
                (sequence,) = conn.execute(
                    "UPDATE relay_partners SET sequence = sequence + 1 WHERE id = ? RETURNING sequence", (partner.id,)
                ).fetchone()
                envelope_id = secrets.token_hex(16)
                data = seal(
                    summary.to_bytes(),
                    sender=signing,
                    recipient=PublicKey(partner.box_key),
                    sequence=int(sequence),
                    created_at=now,
                    envelope_id=envelope_id,
                )
                conn.execute(
                    "INSERT INTO relay_outbox (envelope_id, partner_id, case_id, sequence, summary_hash, envelope, "
                    "created_at, next_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        envelope_id,
                        partner.id,
                        case_id,
                        int(sequence),
                        shown_hash,
                        data,
                        now.isoformat(),
                        now.isoformat(),
                    ),
                )
                queued += 1
            self._audit(
                conn, "relay_approve", case_id, {"summary_sha256": shown_hash, "partners": [p.name for p in partners]}
            )
        return queued

    def source_words(self, case_id: int) -> str:
        """The text the narrative is redacted from: the coordinator's edit, else the worker's words."""
        with self.store._lock:
            facts, _ = self._facts(self.store._conn, case_id, self._narrative(self.store._conn, case_id))
        return facts.words[:MAX_NARRATIVE]

    def _narrative(self, conn: Any, case_id: int) -> str | None:
        row = conn.execute("SELECT narrative FROM relay_reviews WHERE case_id = ?", (case_id,)).fetchone()
        return row[0] if row else None

    def withdraw_approval(self, case_id: int) -> int:
        """Take back an approval: envelopes not yet delivered are cancelled. Returns how many."""
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE relay_reviews SET approved_hash = '', approved_by = '', approved_at = '', approved_inputs = '' "
                "WHERE case_id = ?",
                (case_id,),
            )
            cur = conn.execute(
                "UPDATE relay_outbox SET cancelled = ? WHERE case_id = ? AND delivered_at = '' AND cancelled = ''",
                ("approval withdrawn", case_id),
            )
            self._audit(conn, "relay_withdraw", case_id, {"cancelled": cur.rowcount})
        return int(cur.rowcount)

    def _inputs(self, facts: CaseFacts, names: Sequence[str], has_contact: bool) -> str:
        """A cheap digest of everything a summary is built from (no redaction run): the case list
        uses it to tell "changed since approval" for many cases at once."""
        doc = {
            "facts": {k: v for k, v in facts.__dict__.items() if k != "factory"},
            "factory": facts.factory.model_dump() if facts.factory else None,
            "names": list(names), "contact": has_contact, "patterns": list(self.patterns),
        }  # fmt: skip
        return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()

    def reviews(self, limit: int = 200) -> list[tuple[int, str, int, str]]:
        """Cases a coordinator may review: (case id, state, consent, status), those needing action first:
        every approved case (up to 1,000, latest approvals first: any may have changed since) and the
        ``limit`` newest cases not approved.

        Cheap enough for a page of hundreds: the state comes from the inputs digest stored at
        approval, not from running redaction on every case (the case's own page does that).
        """
        out = []
        with self.store._lock:
            conn = self.store._conn
            columns = (
                "SELECT c.id, c.consent, c.contact IS NOT NULL, r.names, r.named_confirmed, r.approved_hash, "
                "r.approved_inputs, r.narrative FROM cases c LEFT JOIN relay_reviews r ON r.case_id = c.id "
            )
            limit = max(1, min(limit, 1000))
            # Every approved case (an old one may have changed since), then the newest others.
            rows = conn.execute(
                columns + "WHERE c.consent >= 1 AND r.approved_hash != '' ORDER BY r.approved_at DESC LIMIT 1000"
            ).fetchall()
            rows += conn.execute(
                columns + "WHERE c.consent >= 1 AND COALESCE(r.approved_hash, '') = '' ORDER BY c.id DESC LIMIT ?",
                (limit,),
            ).fetchall()
            for case_id, consent, has_contact, names_json, confirmed, approved, inputs, narrative in rows:
                facts, _ = self._facts(conn, case_id, narrative)
                names = json.loads(names_json or "[]")
                if facts.status == "withdrawn":
                    state = "withdrawn"
                elif consent == 2 and not confirmed:
                    state = "needs_confirmation"
                elif not approved:
                    state = "to_review"
                elif inputs != self._inputs(facts, names, bool(has_contact)):
                    state = "changed"
                else:
                    state = "approved"
                out.append((int(case_id), state, int(consent), facts.status))
        order = {"changed": 0, "to_review": 1, "needs_confirmation": 2, "approved": 3, "withdrawn": 4}
        return sorted(out, key=lambda x: (order.get(x[1], 5), -x[0]))

    # -- outbox --------------------------------------------------------------------------------------

    def outbox(self, *, pending_only: bool = False, limit: int = 500) -> list[OutboxRow]:
        where = "WHERE o.delivered_at = '' AND o.cancelled = ''" if pending_only else ""
        with self.store._lock:
            sql = (
                "SELECT o.envelope_id, p.name, o.case_id, o.sequence, o.created_at, o.attempts, o.next_at, "  # noqa: S608 - fixed clauses
                "o.last_error, o.exported_at, o.delivered_at, o.cancelled FROM relay_outbox o "
                f"JOIN relay_partners p ON p.id = o.partner_id {where} ORDER BY o.created_at, o.partner_id, o.sequence LIMIT ?"
            )
            rows = self.store._conn.execute(sql, (limit,)).fetchall()
        return [OutboxRow(*r) for r in rows]

    def envelope(self, envelope_id: str) -> tuple[Partner, bytes, int | None]:
        with self.store._lock:
            row = self.store._conn.execute(
                "SELECT partner_id, envelope, case_id FROM relay_outbox WHERE envelope_id = ?", (envelope_id,)
            ).fetchone()
        if row is None:
            raise InvalidInput("no such envelope", fields={"envelope": "unknown"})
        return self.partner(int(row[0])), bytes(row[1]), row[2]

    def still_allowed(self, case_id: int | None) -> str:
        """'' when a queued envelope of this case may still go, else why not (consent withdrawn, ...)."""
        if case_id is None:
            return "case deleted"
        with self.store._lock:
            row = self.store._conn.execute("SELECT consent, status FROM cases WHERE id = ?", (case_id,)).fetchone()
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
                (error[:300], (_now() + retry_in).isoformat(), envelope_id),
            )

    def exported(self, envelope_ids: Sequence[str]) -> None:
        now = _now().isoformat()
        with self.store.transaction() as conn:
            conn.executemany(
                "UPDATE relay_outbox SET exported_at = ? WHERE envelope_id = ?", [(now, i) for i in envelope_ids]
            )
