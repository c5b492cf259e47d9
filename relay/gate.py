"""The review gate: what a coordinator sees, edits and approves before a case summary may leave.

A summary leaves only when all of these hold, checked when it is queued and again when it is sent:

- the worker's consent is 1 (anonymised summary) or 2 (with name; then a coordinator must also
  confirm it for this case explicitly), and the case is not withdrawn;
- a coordinator approved exactly this content: the approval is bound to the summary's content hash,
  so any change (a new status, an edited narrative, another name to remove) needs approval again.

Approving seals the summary once per registered partner (``relay.partners``), each under its own
case reference, into the outbox (``relay.outbox``); ``relay.transport`` sends them. Every edit,
approval and withdrawal is in the hash-chained audit log (hashes and counts only, never the text).
``Relay`` puts the three together for callers that use them all (the desk, ``intake relay``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from crypto import NodeKeys
from intake import clock
from intake.domain import remedy_state
from intake.errors import CaseNotFound, InvalidInput, NotEligible, Stale
from intake.store.actions import outcome_of
from intake.store.cases import CasesStore
from relay.filegate import FileGate
from relay.outbox import Outbox
from relay.partners import Partners, record
from relay.summary import MAX_NARRATIVE, CaseFacts, Draft, FactoryRecord, build

MAX_NAMES = 50


@dataclass(frozen=True)
class Review:
    """One case as the review page shows it."""

    case_id: int
    consent: int
    state: str  # not_shared | withdrawn | needs_confirmation | to_review | changed | step_overdue | approved
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


def _state(
    consent: int, status: str, confirmed: bool, approved: bool, unchanged: bool, step_overdue: bool = False
) -> str:
    """A case's place in the gate (``Review.state``); ``unchanged``: the summary is still the approved one
    (its overdue days counted on the day of approval); ``step_overdue``: but a step of the plan went
    overdue since, which the partner has not been told: the summary is out of date (escalation)."""
    if consent < 1:
        return "not_shared"
    if status == "withdrawn":
        return "withdrawn"
    if consent == 2 and not confirmed:
        return "needs_confirmation"
    if not approved:
        return "to_review"
    if not unchanged:
        return "changed"
    return "step_overdue" if step_overdue else "approved"


def _overdue(actions: Sequence[tuple[str, str, date, bool]], today: date) -> tuple[int, ...]:
    """Which steps of the plan are overdue on ``today`` (their indexes)."""
    return tuple(i for i, (_, _, due, done) in enumerate(actions) if not done and due < today)


def _day(stamp: str, default: date) -> date:
    try:
        return date.fromisoformat(stamp[:10])
    except ValueError:
        return default


class Gate:
    """The review gate over cases.db: each case's summary, the coordinator's edits, approval and withdrawal."""

    def __init__(self, store: CasesStore, keys: NodeKeys, *, patterns: Sequence[str] = ()) -> None:
        self.store = store
        self.keys = keys
        self.patterns = tuple(patterns)
        self.registry = Partners(store, keys)
        self.outbox = Outbox(store, keys)

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
        steps = conn.execute(
            "SELECT action, who, due, done_at, remedy_kind, remedy_amount, remedy_currency, remedy_workers, "
            "remedy_verified_by FROM actions WHERE case_id = ? ORDER BY due, id",
            (case_id,),
        ).fetchall()
        actions = tuple((a, who, date.fromisoformat(due[:10]), bool(done)) for a, who, due, done, *_ in steps)
        action_remedy = tuple(
            (date.fromisoformat(done[:10]) if done else None, outcome_of(remedy)) for _, _, _, done, *remedy in steps
        )
        outcomes = tuple(
            (o, date.fromisoformat(at[:10]))
            for *stored, at in conn.execute(
                "SELECT kind, amount, currency, workers_covered, verified_by, at FROM case_outcomes "
                "WHERE case_id = ? ORDER BY id",
                (case_id,),
            )
            if (o := outcome_of(stored)) is not None
        )
        (confirmation,) = conn.execute("SELECT worker_confirmation FROM cases WHERE id = ?", (case_id,)).fetchone()
        facts = CaseFacts(
            case_id=case_id, locale=locale, created_month=created[:7], status=status, severity=severity,
            categories=tuple(json.loads(cats or "[]")), workers_affected=int(workers or 1),
            factory_text=factory_text, factory=factory, words=narrative, actions=actions,
            action_remedy=action_remedy if any(d or o for d, o in action_remedy) else (),
            outcomes=outcomes, worker_confirmation=confirmation, consent=int(consent),
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
        with self.store.reading() as conn:
            r = conn.execute(
                "SELECT narrative, names, named_confirmed, approved_hash, approved_by, approved_at "
                "FROM relay_reviews WHERE case_id = ?",
                (case_id,),
            ).fetchone()
            narrative, names_json, confirmed, approved_hash, approved_by, approved_at = r or (None, "[]", 0, "", "", "")
            facts, consent = self._facts(conn, case_id, narrative)
            queued, delivered = self.outbox.tally(conn, case_id)
        names = tuple(json.loads(names_json or "[]"))
        today = clock.now().date()
        draft = build(
            facts,
            node_id=self.keys.node_id,
            names=[*names, *self._contact_name(case_id)],
            patterns=self.patterns,
            today=today,
        )
        # Overdue days grow every day: what the coordinator approved is compared as of that day, and a
        # step that went overdue since makes the summary out of date (it needs approval again).
        approved_on = _day(approved_at, today)
        unchanged = approved_hash in (draft.content_hash, draft.summary.overdue_as_of(approved_on).content_hash())
        late = _overdue(facts.actions, today) != _overdue(facts.actions, approved_on)
        state = _state(consent, facts.status, bool(confirmed), bool(approved_hash), unchanged, late)
        return Review(
            case_id, consent, state, draft, names, bool(confirmed), narrative is not None,
            approved_by, approved_at, queued, delivered,
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
            record(conn, self.keys, "relay_edit", case_id, detail)
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
        partners = self.registry.all()
        now = clock.now_s()
        with self.store.transaction() as conn:
            # The hash again, inside the transaction: nothing may change between check and seal.
            facts, _ = self._facts(conn, case_id, self._narrative(conn, case_id))
            current = build(
                facts,
                node_id=self.keys.node_id,
                names=names,
                patterns=self.patterns,
                today=now.date(),
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
            queued = self.outbox.queue(conn, case_id, current, partners, shown_hash, now)
            detail = {"summary_sha256": shown_hash, "partners": [p.name for p in partners]}
            record(conn, self.keys, "relay_approve", case_id, detail)
        return queued

    def source_words(self, case_id: int) -> str:
        """The text the narrative is redacted from: the coordinator's edit, else the worker's words."""
        with self.store.reading() as conn:
            facts, _ = self._facts(conn, case_id, self._narrative(conn, case_id))
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
            cancelled = self.outbox.cancel_case(conn, case_id, "approval withdrawn")
            record(conn, self.keys, "relay_withdraw", case_id, {"cancelled": cancelled})
        return cancelled

    def _inputs(self, facts: CaseFacts, names: Sequence[str], has_contact: bool) -> str:
        """A cheap digest of everything a summary is built from (no redaction run): the case list
        uses it to tell "changed since approval" for many cases at once."""
        # Issue 15's facts only when the case has them: an approval made before stays current.
        added = {"action_remedy": (), "outcomes": (), "worker_confirmation": None, "consent": 1}
        facts_doc = {k: v for k, v in facts.__dict__.items() if k != "factory" and not (k in added and added[k] == v)}
        if remedy_state(facts.status, facts.worker_confirmation) is not None:
            facts_doc["remedy_state"] = remedy_state(facts.status, facts.worker_confirmation)
        doc = {
            "facts": facts_doc,
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
        with self.store.reading() as conn:
            columns = (
                "SELECT c.id, c.consent, c.contact IS NOT NULL, r.names, r.named_confirmed, r.approved_hash, "
                "r.approved_inputs, r.narrative, r.approved_at FROM cases c LEFT JOIN relay_reviews r ON r.case_id = c.id "
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
            today = clock.now().date()
            for case_id, consent, has_contact, names_json, confirmed, approved, inputs, narrative, at in rows:
                facts, _ = self._facts(conn, case_id, narrative)
                names = json.loads(names_json or "[]")
                unchanged = bool(approved) and inputs == self._inputs(facts, names, bool(has_contact))
                late = _overdue(facts.actions, today) != _overdue(facts.actions, _day(at or "", today))
                state = _state(int(consent), facts.status, bool(confirmed), bool(approved), unchanged, late)
                out.append((int(case_id), state, int(consent), facts.status))
        order = {
            "changed": 0,
            "step_overdue": 0,
            "to_review": 1,
            "needs_confirmation": 2,
            "approved": 3,
            "withdrawn": 4,
        }
        return sorted(out, key=lambda x: (order.get(x[1], 5), -x[0]))


class Relay(Outbox):
    """The node's relay as one object over one store, for the callers that use all of it (the desk's
    relay pages, ``intake relay``, the demo): it is the outbox (``relay.transport`` sends from it),
    with the partner registry and the review gate by their old names.
    """

    def __init__(self, store: CasesStore, keys: NodeKeys, *, patterns: Sequence[str] = ()) -> None:
        super().__init__(store, keys)
        self.gate = Gate(store, keys, patterns=patterns)
        self.patterns = self.gate.patterns
        registry, gate = self.registry, self.gate
        self.add_partner, self.partner, self.partners = registry.add, registry.get, registry.all
        self.remove_partner = registry.remove
        self.review, self.reviews, self.save, self.approve = gate.review, gate.reviews, gate.save, gate.approve
        self.withdraw_approval, self.source_words = gate.withdraw_approval, gate.source_words
        self.outbox = self.rows
        self.files = FileGate(gate)  # evidence files: one file for one partner (relay/filegate.py)
