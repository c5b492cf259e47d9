"""The ``CaseSummary`` a partner receives, and how a node builds it from a case.

Only what monitoring needs leaves: the factory (the point of monitoring), categories, severity,
the month of the first report, a bucketed count of workers affected, status, remedy progress and a
redacted narrative. Quasi-identifiers (department, line, shift, dormitory, age, home town) never
leave as fields; the worker's location, channel, exact dates and contact never leave at all.

The case reference is a keyed hash of the case id, with a different key per partner: stable across
updates of one case, unlinkable between two partners (and meaningless to anyone without the node's
master secret).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from intake import clock
from intake.domain import RemedyOutcome, RemedyState, remedy_state
from relay.redact import Redacted, redact

FORMAT = "grievance-intake/summary/v1"
REF_LABEL = "intake/v1/relay-case-ref"
MAX_NARRATIVE = 8000
Bucket = Literal["1", "2-9", "10-49", "50+"]
_Text = Annotated[str, StringConstraints(max_length=400)]


def bucket(workers: int) -> Bucket:
    """Workers affected as a coarse bucket: an exact count can single out a small team."""
    if workers >= 50:
        return "50+"
    if workers >= 10:
        return "10-49"
    if workers >= 2:
        return "2-9"
    return "1"


class FactoryRecord(BaseModel):
    """The factory as the register knows it (or, unregistered, the name the worker gave, redacted)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: _Text
    address: _Text = ""
    country: Annotated[str, StringConstraints(max_length=2)] = ""
    parent_company: _Text = ""
    brands: list[_Text] = Field(default_factory=list, max_length=50)
    public_buyers: list[_Text] = Field(default_factory=list, max_length=50)
    open_supply_hub_id: Annotated[str, StringConstraints(max_length=40)] = ""
    registered: bool = False


Who = Literal["employer", "brand", "public_buyer", "labour_group"]


class OutcomeRecord(RemedyOutcome):
    """A remedy outcome as a partner counts it (kind, amount and currency, workers covered, how it was
    verified), with the day it was done: a step's done date, or the day a case's outcome was recorded."""

    done_on: date | None = None


class RemedyAction(BaseModel):
    """One step of the corrective action plan: what, who must act, by when, done or not (and when, and
    with what outcome: both absent from summaries made before issue 15, and from steps not done)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Annotated[str, StringConstraints(max_length=2000)]
    who: Who
    due: date
    done: bool
    done_on: date | None = None
    outcome: OutcomeRecord | None = None


class OverdueStep(BaseModel):
    """A step of the plan past its due date and not done (escalation): ``step`` is its index in
    ``remedy``; ``days_overdue`` is counted on the day the summary was made."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    step: int = Field(ge=0, lt=100)
    who: Who
    due: date
    days_overdue: int = Field(ge=1)


class CaseSummary(BaseModel):
    """What a partner receives about one case (schema ``grievance-intake/summary/v1``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["grievance-intake/summary/v1"] = "grievance-intake/summary/v1"
    node_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    case_ref: Annotated[str, StringConstraints(pattern=r"^[a-z2-7]{16}$")]
    language: Annotated[str, StringConstraints(max_length=16)]
    factory: FactoryRecord
    categories: list[Annotated[str, StringConstraints(max_length=40)]] = Field(max_length=20)
    severity: Literal["urgent", "high", "normal", "low"]
    first_reported: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}$")]
    workers_affected: Bucket
    status: Literal["new", "triaged", "investigating", "remedy", "resolved", "closed_unresolved", "withdrawn"]
    remedy: list[RemedyAction] = Field(default_factory=list, max_length=100)
    narrative: Annotated[str, StringConstraints(max_length=MAX_NARRATIVE)]
    # Issue 15 (remedy): all optional, and left out of the bytes when empty, so a summary without them
    # is byte for byte what it was before (same hash: no re-approval; older partners still open it).
    outcomes: list[OutcomeRecord] = Field(default_factory=list, max_length=50)
    remedy_state: RemedyState | None = None
    overdue_steps: list[OverdueStep] = Field(default_factory=list, max_length=100)
    # Issue 15 item 6: the worker chose the fullest sharing (consent 2, "with my name"), so the partner
    # may publish this case's row (factory, month, category, status, outcome) in a public complaints
    # table once its own coordinator approves the row. Left out of the bytes when False, like the above.
    full_sharing: bool = False

    def content_hash(self) -> str:
        """SHA-256 of the summary's content, without the per-partner reference and the node id.

        A coordinator approves this: the same content goes to every partner, each under its own
        reference. Any change of content (a status change, an edited narrative) changes the hash
        and needs approval again.
        """
        doc = self.wire()
        doc["case_ref"] = ""
        doc["node_id"] = ""
        return hashlib.sha256(canonical(doc)).hexdigest()

    def to_bytes(self) -> bytes:
        return canonical(self.wire())

    def wire(self) -> dict[str, Any]:
        """The summary as sent: the fields added by issue 15 only where they say something."""
        doc = self.model_dump(mode="json")
        for key, empty in (("outcomes", []), ("remedy_state", None), ("overdue_steps", []), ("full_sharing", False)):
            if doc[key] == empty:
                del doc[key]
        for step in doc["remedy"]:
            for key in ("done_on", "outcome"):
                if step[key] is None:
                    del step[key]
        return doc

    def overdue_as_of(self, today: date) -> CaseSummary:
        """This summary with its overdue steps counted on ``today`` (a partner's lists, the gate)."""
        return self.model_copy(update={"overdue_steps": overdue_steps(self.remedy, today)})

    def days_overdue(self, today: date) -> int:
        """Days the longest-overdue open step is past due on ``today``, as far as this summary tells; 0: none."""
        return max((s.days_overdue for s in overdue_steps(self.remedy, today)), default=0)


def overdue_steps(remedy: Sequence[RemedyAction], today: date) -> list[OverdueStep]:
    """The steps not done and due before ``today``, longest overdue first."""
    late = [
        OverdueStep(step=i, who=a.who, due=a.due, days_overdue=(today - a.due).days)
        for i, a in enumerate(remedy)
        if not a.done and a.due < today
    ]
    return sorted(late, key=lambda s: (-s.days_overdue, s.step))


def canonical(doc: object) -> bytes:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 (what is hashed is what is sealed)."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def case_ref(ref_key: bytes, partner_box_key: bytes, case_id: int) -> str:
    """The partner's pseudonymous reference for a case: 16 base32 letters (80 bits)."""
    digest = hmac.new(ref_key, partner_box_key + b"\x00" + str(case_id).encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:10]).decode().lower()


# -- building -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFacts:
    """What the node knows of a case that a summary may draw on (read from cases.db by the gate)."""

    case_id: int
    locale: str
    created_month: str
    status: str
    severity: str
    categories: tuple[str, ...]
    workers_affected: int
    factory_text: str  # as the worker gave it
    factory: FactoryRecord | None  # from the register, when linked
    words: str  # the worker's words with follow-ups, or the coordinator's edited narrative
    actions: tuple[tuple[str, str, date, bool], ...]  # (action, who, due, done)
    # Issue 15: (done date, outcome) of each of ``actions``; the case's outcomes with the day each
    # was recorded; the worker's answer (NULL/yes/partly/no). Defaults: a case without remedy data.
    action_remedy: tuple[tuple[date | None, RemedyOutcome | None], ...] = ()
    outcomes: tuple[tuple[RemedyOutcome, date], ...] = ()
    worker_confirmation: str | None = None
    consent: int = 1  # the worker's consent (intake.domain.Consent): 2 makes the summary's full_sharing


@dataclass(frozen=True)
class Draft:
    """A summary before the per-partner reference, with what redaction removed (for the review page)."""

    case_id: int
    summary: CaseSummary  # case_ref is a placeholder: see for_partner()
    narrative: Redacted
    factory_name: Redacted | None
    actions: tuple[Redacted, ...]

    @property
    def content_hash(self) -> str:
        return self.summary.content_hash()

    def for_partner(self, ref_key: bytes, partner_box_key: bytes) -> CaseSummary:
        ref = case_ref(ref_key, partner_box_key, self.case_id)
        return self.summary.model_copy(update={"case_ref": ref})


PLACEHOLDER_REF = "a" * 16


def build(
    facts: CaseFacts,
    *,
    node_id: str,
    names: Iterable[str] = (),
    patterns: Sequence[str] = (),
    today: date | None = None,
) -> Draft:
    """The summary of one case, every free-text field redacted in the case's language; steps overdue
    are counted on ``today`` (default: the clock's)."""
    today = today or clock.now().date()
    names = [n for n in names if n and n.strip()]
    narrative = redact(facts.words[:MAX_NARRATIVE], locale=facts.locale, names=names, patterns=patterns)
    factory_name: Redacted | None = None
    if facts.factory is not None:
        factory = facts.factory
    else:
        # The factory's name is the point of monitoring: only listed names and identifiers go.
        factory_name = redact(
            facts.factory_text, locale=facts.locale, names=names, patterns=patterns, unlisted_names=False
        )
        factory = FactoryRecord(name=factory_name.text[:400])
    actions = tuple(redact(a, locale=facts.locale, names=names, patterns=patterns) for a, _, _, _ in facts.actions)
    done_info = facts.action_remedy or ((None, None),) * len(facts.actions)
    remedy = [
        RemedyAction(
            action=r.text[:2000],
            who=who,  # type: ignore[arg-type]
            due=due,
            done=done,
            done_on=done_on if done else None,
            outcome=_record(outcome, done_on) if done and outcome is not None else None,
        )
        for r, (_, who, due, done), (done_on, outcome) in zip(actions, facts.actions, done_info, strict=True)
    ]
    summary = CaseSummary(
        node_id=node_id,
        case_ref=PLACEHOLDER_REF,
        language=facts.locale,
        factory=factory,
        categories=sorted(set(facts.categories)),
        severity=facts.severity if facts.severity in ("urgent", "high", "normal", "low") else "normal",  # type: ignore[arg-type]
        first_reported=facts.created_month,
        workers_affected=bucket(facts.workers_affected),
        status=facts.status,  # type: ignore[arg-type]
        remedy=remedy,
        narrative=narrative.text[:MAX_NARRATIVE],
        outcomes=[_record(o, on) for o, on in facts.outcomes],
        remedy_state=remedy_state(facts.status, facts.worker_confirmation),
        full_sharing=facts.consent >= 2,
        overdue_steps=overdue_steps(remedy, today),
    )
    return Draft(facts.case_id, summary, narrative, factory_name, actions)


def _record(outcome: RemedyOutcome, done_on: date | None) -> OutcomeRecord:
    return OutcomeRecord(**outcome.model_dump(), done_on=done_on)
